"""An organisation's record as a file: its members' hours and the wishes it took as a team."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.exports.sheets import Cell, Column, ColumnKind, Sheet
from app.models import Team
from app.privacy.masking import shown_name
from app.schemas import hours_of
from app.teams import records
from app.teams.schemas import KIND_LABELS, TeamKind

STATUS_NAMES = {
    "accepted": "已接单",
    "in_service": "服务中",
    "completed": "待评价",
    "rated": "已评价",
    "closed": "已办结",
    "cancelled": "已取消",
}


def sheets(session: Session, team: Team, p: records.Period) -> list[Sheet]:
    title = (
        f"{team.name}（{KIND_LABELS[TeamKind(team.kind)]}）"
        f" {p.start_date.isoformat()} 至 {p.end_date.isoformat()}"
    )
    rows = records.member_minutes(
        session, team_id=team.id, starts_at=p.starts_at, ends_at=p.ends_at
    )
    ranked_rows: list[list[Cell]] = [
        [rank, shown_name(row.name), hours_of(row.minutes)] for rank, row in records.ranked(rows)
    ]
    idle: list[list[Cell]] = [[None, shown_name(r.name), 0.0] for r in rows if r.minutes <= 0]
    hours = Sheet(
        name="成员时长",
        title=title,
        columns=[
            Column("名次", ColumnKind.INTEGER),
            Column("成员"),
            Column("服务时长（小时）", ColumnKind.NUMBER),
        ],
        rows=ranked_rows + idle,
        notes=["时长为成员入队后、期内开始并经确认的服务时长（含更正）。"],
    )
    wishes = Sheet(
        name="团队接单",
        title=title,
        columns=[
            Column("接单时间", ColumnKind.DATETIME),
            Column("心愿编号", ColumnKind.INTEGER),
            Column("心愿", width=30),
            Column("状态"),
            Column("应召成员数", ColumnKind.INTEGER),
        ],
        rows=[
            [wish.accepted_at, wish.id, wish.title, STATUS_NAMES.get(wish.status, wish.status), n]
            for wish, n in records.team_wishes(session, team_id=team.id, p=p, limit=10_000)
        ],
    )
    c = records.counts(session, team=team, p=p)
    summary = Sheet(
        name="汇总",
        title=title,
        columns=[Column("项目", width=24), Column("数值", ColumnKind.NUMBER)],
        rows=[
            ["以团队名义接下的心愿", c.wishes_taken],
            ["其中已完成服务", c.wishes_served],
            ["以团队名义参加的活动", c.activities_joined],
            ["成员服务时长（小时）", hours_of(c.minutes)],
            ["结对帮扶的困难家庭", c.households],
            ["结对帮扶的村（社区）", c.villages],
        ],
    )
    return [hours, wishes, summary]
