"""点单: the wishes placed in the scope (their first `submit` event in the window, their station in
the subtree: `wish_milestones.placed_at`), counted and broken down. Every figure's drill lists
the placed wishes it counts.

- `intake.wishes`: wishes placed.
- `intake.by_category`: per service category (`wishes.category_code`); every active category
  and any other that has wishes, in catalogue order.
- `intake.by_programme`: per brand programme (`wishes.programme_code`, e.g. 认领微心愿,
  我们的节日), likewise; group `none` for wishes of no programme.
- `intake.by_season`: per 四季红 season theme the wish was tagged with (`wishes.season_code`),
  likewise; group `none` for untagged wishes.
- `intake.by_channel`: how the wish came in, by its first `submit`: `self` (the resident in
  the mini-program, no proxy), `grid_worker` (a grid worker ordered on the resident's behalf:
  a proxy, submitted in the requester's role), `staff` (a coordinator or administrator
  ordered on the resident's behalf: a proxy, submitted in the coordinator's role).
- `intake.proxy_share`: wishes ordered by proxy (grid worker or staff) / wishes placed; None when
  nothing was placed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from app.models import Category, Programme, SeasonTheme
from app.stats.figures import DrillKind, Figure, Scope, Section, register
from app.stats.queries import M, bucket_of, ids, rate, reached, spanning

NONE = "none"
CHANNELS = {
    "self": "群众自主点单（小程序）",
    "grid_worker": "网格员代点单",
    "staff": "工作人员代点单",
}
CATALOGUES: dict[str, tuple[Any, str, str]] = {
    # figure name: (catalogue model, wish column, label of wishes outside any entry)
    "by_category": (Category, "category_code", ""),
    "by_programme": (Programme, "programme_code", "未归属品牌项目"),
    "by_season": (SeasonTheme, "season_code", "未标注季节主题"),
}
LABELS = {
    "by_category": "按服务类别",
    "by_programme": "按品牌项目",
    "by_season": "按四季红主题",
    "by_channel": "按点单渠道",
}


def _placed_wishes(scope: Scope) -> Any:
    """(wish_id, category_code, programme_code, season_code, channel, at) of the placed wishes,
    from their milestones (the channel as the database recorded it from the first submit)."""
    return (
        select(
            M.wish_id.label("wish_id"),
            M.category_code.label("category_code"),
            func.coalesce(M.programme_code, NONE).label("programme_code"),
            func.coalesce(M.season_code, NONE).label("season_code"),
            M.channel.label("channel"),
            M.placed_at.label("at"),
        )
        .where(reached(M.placed_at, scope))
        .subquery("placed_wishes")
    )


GROUPED = ("channel", *(column for _model, column, _none in CATALOGUES.values()))


def _counts(
    session: Session, rows: Any, scopes: Sequence[Scope]
) -> list[dict[str, dict[str, int]]]:
    """Per scope, per column of GROUPED: how many placed wishes have each value. One grouped
    count over every combination of the columns, summed up per column."""
    out: list[dict[str, dict[str, int]]] = [{c: {} for c in GROUPED} for _ in scopes]
    bucket = bucket_of(rows.c.at, scopes)
    columns = [rows.c[c] for c in GROUPED]
    grouped: Select[Any] = select(bucket, *columns, func.count()).group_by(bucket, *columns)
    for index, *values, n in session.execute(grouped):
        if index is None:
            continue
        counts = out[int(index)]
        for column, value in zip(GROUPED, values, strict=True):
            counts[column][str(value)] = counts[column].get(str(value), 0) + int(n)
    return out


def _catalogue(session: Session, model: Any, counted: set[str]) -> list[tuple[str, str, bool]]:
    """(code, name, active) of every active entry and every counted one, in catalogue order."""
    entries = session.execute(
        select(model.code, model.name, model.is_active)
        .where(or_(model.is_active.is_(True), model.code.in_(sorted(counted))))
        .order_by(model.sort_order, model.code)
    ).all()
    return [(str(code), str(name), bool(active)) for code, name, active in entries]


def _catalogue_groups(
    entries: list[tuple[str, str, bool]], counts: dict[str, int], none_label: str
) -> list[tuple[str, str]]:
    """(code, name) of every active entry and every counted one, in catalogue order; the
    wishes of no entry last."""
    groups = [(code, name) for code, name, active in entries if active or code in counts]
    if none_label:
        groups.append((NONE, none_label))
    return groups


def compute(session: Session, scope: Scope) -> list[Figure]:
    return compute_each(session, [scope])[0]


def compute_each(session: Session, scopes: Sequence[Scope]) -> list[list[Figure]]:
    rows = _placed_wishes(spanning(scopes))
    counted = _counts(session, rows, scopes)
    catalogues = {
        name: _catalogue(session, model, {code for c in counted for code in c[column]})
        for name, (model, column, _none_label) in CATALOGUES.items()
    }
    return [
        _figures(
            counts["channel"],
            {name: counts[column] for name, (_model, column, _none) in CATALOGUES.items()},
            catalogues,
        )
        for counts in counted
    ]


def _figures(
    channels: dict[str, int],
    counts_of: dict[str, dict[str, int]],
    catalogues: dict[str, list[tuple[str, str, bool]]],
) -> list[Figure]:
    total = sum(channels.values())
    proxied = total - channels.get("self", 0)
    figures = [Figure("intake.wishes", "点单数", total, "件", DrillKind.WISHES)]
    for name, (_model, _column, none_label) in CATALOGUES.items():
        counts = counts_of[name]
        figures += [
            Figure(
                f"intake.{name}",
                LABELS[name],
                counts.get(code, 0),
                "件",
                DrillKind.WISHES,
                group=code,
                group_label=label,
            )
            for code, label in _catalogue_groups(catalogues[name], counts, none_label)
        ]
    figures += [
        Figure(
            "intake.by_channel",
            LABELS["by_channel"],
            channels.get(code, 0),
            "件",
            DrillKind.WISHES,
            group=code,
            group_label=label,
        )
        for code, label in CHANNELS.items()
    ]
    figures.append(
        Figure("intake.proxy_share", "代点单占比", rate(proxied, total), "%", DrillKind.WISHES)
    )
    return figures


def drill(session: Session, scope: Scope, key: str, group: str | None) -> list[int]:
    rows = _placed_wishes(scope)
    name = key.removeprefix("intake.")
    query = select(rows.c.wish_id)
    if name == "wishes" and group is None:
        pass
    elif name == "proxy_share" and group is None:
        query = query.where(rows.c.channel != "self")
    elif name == "by_channel" and group is not None:
        query = query.where(rows.c.channel == group)
    elif name in CATALOGUES and group is not None:
        query = query.where(rows.c[CATALOGUES[name][1]] == group)
    else:
        raise KeyError(f"no figure {key!r} with group {group!r}")
    return ids(session.scalars(query))


SECTION = register(
    Section(key="intake", label="点单", compute=compute, drill=drill, compute_each=compute_each)
)
