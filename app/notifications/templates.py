"""What each message says: a Chinese title and body per topic and audience, from its payload.

`render(topic, payload)` is the one place the text of a message is made: the inbox shows it,
WeChat subscription messages take its `kind` and `fields`, SMS sends its body. Payloads carry
facts (names, ISO times, the coarse address, the offer's deadline), never text, so a template
can be reworded without touching the rows already queued. A payload to a volunteer who has not
accepted carries the coarse address only (see `wishes.service._notify`).

Urgent messages are those that lose their point if they wait for the morning: offers (they
expire), check-in reminders, escalations, cancellations of a task already held.

Size: the file is the wording of all 39 topics, one short function each, kept together so that
the service's voice can be read and edited in one place.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app import clock

KINDS = frozenset({"offer", "wish_update", "task", "todo", "record"})
FIELD_KEYS = frozenset({"subject", "status", "time", "place", "person", "note"})
# WeChat's `thing` values hold at most 20 characters; longer ones are refused by the API.
FIELD_MAX = 20


@dataclass(frozen=True)
class Rendered:
    title: str  # short Chinese title (inbox list; SMS prefix)
    body: str  # full Chinese text (inbox, SMS)
    urgent: bool  # falls back to SMS without WeChat quota; never held by quiet hours
    kind: str  # subscription template kind: offer | wish_update | task | todo | record
    fields: dict[str, str]  # keys among subject, status, time, place, person, note
    page: str | None  # mini-program page to open


# ---------------------------------------------------------------- helpers


def local_time(value: Any) -> str:
    """An ISO instant from a payload as local time, "12月3日 09:00"; "" when absent or bad."""
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return ""
    if moment.tzinfo is None:
        return ""
    local = clock.to_local(moment)
    return f"{local.month}月{local.day}日 {local:%H:%M}"


def _window(p: dict[str, Any]) -> str:
    start, end = local_time(p.get("wanted_start_at")), local_time(p.get("wanted_end_at"))
    if start and end:
        same_day = start.split(" ")[0] == end.split(" ")[0]
        return f"{start}–{end.split(' ')[1] if same_day else end}"
    return start or end


def _title(p: dict[str, Any]) -> str:
    return f"「{p.get('title') or '心愿'}」"


def _reason(p: dict[str, Any], label: str = "理由") -> str:
    reason = p.get("reason")
    return f"{label}：{reason}。" if reason else ""


def _wish_page(p: dict[str, Any]) -> str | None:
    return f"pages/wish/detail?id={p['wish_id']}" if p.get("wish_id") else None


def _record_page(p: dict[str, Any]) -> str | None:
    return f"pages/record/detail?id={p['record_id']}" if p.get("record_id") else None


def _clip(fields: dict[str, str]) -> dict[str, str]:
    return {
        k: (v if len(v) <= FIELD_MAX else v[: FIELD_MAX - 1] + "…") for k, v in fields.items() if v
    }


def _hours(p: dict[str, Any], key: str = "hours") -> str:
    value = p.get(key)
    if value is None:
        return ""
    return f"{float(value):g} 小时"


Template = Callable[[dict[str, Any]], Rendered]
TEMPLATES: dict[str, Template] = {}


def template(topic: str) -> Callable[[Template], Template]:
    def register(fn: Template) -> Template:
        TEMPLATES[topic] = fn
        return fn

    return register


# ---------------------------------------------------------------- to the requester (and proxy)


@template("wish.approved")
def _approved(p: dict[str, Any]) -> Rendered:
    return Rendered(
        title="心愿已通过审核",
        body=f"您的心愿{_title(p)}已通过审核，正在为您安排志愿者。",
        urgent=False,
        kind="wish_update",
        fields=_clip({"subject": p.get("title", ""), "status": "已通过审核", "time": _window(p)}),
        page=_wish_page(p),
    )


@template("wish.rejected")
def _rejected(p: dict[str, Any]) -> Rendered:
    return Rendered(
        title="心愿未通过审核",
        body=f"很抱歉，您的心愿{_title(p)}未通过审核。{_reason(p)}如有疑问请联系所在站点。",
        urgent=False,
        kind="wish_update",
        fields=_clip(
            {"subject": p.get("title", ""), "status": "未通过审核", "note": p.get("reason") or ""}
        ),
        page=_wish_page(p),
    )


@template("wish.accepted")
def _accepted(p: dict[str, Any]) -> Rendered:
    who = p.get("volunteer_name") or "志愿者"
    when = _window(p)
    return Rendered(
        title="志愿者已接单",
        body=f"您的心愿{_title(p)}已由志愿者{who}接单"
        + (f"，将于{when}上门服务" if when else "")
        + "。如时间有变，请在小程序中联系站点。",
        urgent=False,
        kind="wish_update",
        fields=_clip(
            {"subject": p.get("title", ""), "status": "已接单", "person": who, "time": when}
        ),
        page=_wish_page(p),
    )


@template("wish.back_to_dispatch")
def _back_to_dispatch(p: dict[str, Any]) -> Rendered:
    return Rendered(
        title="正在重新安排志愿者",
        body=f"原接单志愿者无法前来，您的心愿{_title(p)}正在重新安排志愿者，请耐心等待。",
        urgent=False,
        kind="wish_update",
        fields=_clip({"subject": p.get("title", ""), "status": "重新派单中"}),
        page=_wish_page(p),
    )


@template("wish.in_service")
def _in_service(p: dict[str, Any]) -> Rendered:
    who = p.get("volunteer_name") or "志愿者"
    return Rendered(
        title="志愿者已到达",
        body=f"志愿者{who}已签到，开始为您服务{_title(p)}。",
        urgent=False,
        kind="wish_update",
        fields=_clip({"subject": p.get("title", ""), "status": "服务中", "person": who}),
        page=_wish_page(p),
    )


@template("wish.completed")
def _completed(p: dict[str, Any]) -> Rendered:
    return Rendered(
        title="服务已完成，请评价",
        body=f"您的心愿{_title(p)}已服务完成。欢迎为这次服务打分，您的评价会帮助我们做得更好。",
        urgent=False,
        kind="wish_update",
        fields=_clip({"subject": p.get("title", ""), "status": "已完成，待评价"}),
        page=_wish_page(p),
    )


# ---------------------------------------------------------------- to volunteers


@template("offer.received")
def _offer(p: dict[str, Any]) -> Rendered:
    deadline = local_time(p.get("expires_at"))
    place = p.get("coarse_address") or ""
    when = _window(p)
    body = f"您收到一个派单邀请：{_title(p)}"
    body += f"，地点：{place}" if place else ""
    body += f"，时间：{when}" if when else ""
    body += f"。请在{deadline}前接单或婉拒，逾时邀请自动失效。" if deadline else "。"
    return Rendered(
        title="新的派单邀请",
        body=body,
        urgent=True,
        kind="offer",
        fields=_clip(
            {
                "subject": p.get("title", ""),
                "place": place,
                "time": when,
                "status": f"{deadline}前答复" if deadline else "待答复",
            }
        ),
        page=_wish_page(p),
    )


@template("wish.open_for_grab")
def _open_for_grab(p: dict[str, Any]) -> Rendered:
    place = p.get("coarse_address") or ""
    when = _window(p)
    return Rendered(
        title="附近有心愿可接单",
        body=f"您附近的心愿{_title(p)}开放接单"
        + (f"，地点：{place}" if place else "")
        + (f"，时间：{when}" if when else "")
        + "。先接先得。",
        urgent=bool(p.get("urgency") == "urgent"),
        kind="offer",
        fields=_clip(
            {"subject": p.get("title", ""), "place": place, "time": when, "status": "开放接单"}
        ),
        page=_wish_page(p),
    )


@template("wish.taken")
def _taken(p: dict[str, Any]) -> Rendered:
    return Rendered(
        title="已由他人接单",
        body=f"心愿{_title(p)}已由他人接单，您的派单邀请已关闭，无需再回复。感谢您的热心！",
        urgent=False,
        kind="offer",
        fields=_clip({"subject": p.get("title", ""), "status": "已由他人接单"}),
        page=None,
    )


@template("offer.expired")
def _offer_expired(p: dict[str, Any]) -> Rendered:
    return Rendered(
        title="派单邀请已过期",
        body=f"心愿{_title(p)}的派单邀请已超时失效。",
        urgent=False,
        kind="offer",
        fields=_clip({"subject": p.get("title", ""), "status": "邀请已过期"}),
        page=None,
    )


@template("task.released")
def _released(p: dict[str, Any]) -> Rendered:
    return Rendered(
        title="任务已被收回",
        body=f"协调员已收回您接下的心愿{_title(p)}，您无需再前往。{_reason(p)}",
        urgent=True,
        kind="task",
        fields=_clip(
            {"subject": p.get("title", ""), "status": "已收回", "note": p.get("reason") or ""}
        ),
        page=_wish_page(p),
    )


@template("task.check_in_due")
def _check_in_due(p: dict[str, Any]) -> Rendered:
    when = _window(p)
    place = p.get("coarse_address") or ""
    return Rendered(
        title="请按时签到",
        body=f"您接下的心愿{_title(p)}"
        + (f"（{when}，{place}）" if when else "")
        + "服务时间已到，请到达后签到；如无法前往，请尽快退单说明理由。",
        urgent=True,
        kind="task",
        fields=_clip(
            {"subject": p.get("title", ""), "time": when, "place": place, "status": "待签到"}
        ),
        page=_wish_page(p),
    )


@template("task.check_out_due")
def _check_out_due(p: dict[str, Any]) -> Rendered:
    return Rendered(
        title="服务尚未签退",
        body=f"心愿{_title(p)}已超过预定服务时间仍未签退，请志愿者签退，或由协调员人工确认。",
        urgent=False,
        kind="task",
        fields=_clip({"subject": p.get("title", ""), "status": "待签退", "time": _window(p)}),
        page=_wish_page(p),
    )


@template("wish.rated")
def _rated(p: dict[str, Any]) -> Rendered:
    score = p.get("score")
    return Rendered(
        title="收到服务评价",
        body=f"点单群众为您服务的心愿{_title(p)}打了 {score} 分，感谢您的付出！",
        urgent=False,
        kind="wish_update",
        fields=_clip({"subject": p.get("title", ""), "status": f"评价 {score} 分"}),
        page=_wish_page(p),
    )


@template("wish.cancelled")
def _cancelled(p: dict[str, Any]) -> Rendered:
    # To the requester, coordinators and any volunteer offered or holding it: a volunteer on
    # the way must hear of it at once; the others can wait for the morning.
    return Rendered(
        title="心愿已取消",
        body=f"心愿{_title(p)}已取消。{_reason(p)}"
        + ("无需再前往。" if p.get("to_volunteers") else ""),
        urgent=bool(p.get("to_volunteers")),
        kind="wish_update",
        fields=_clip(
            {"subject": p.get("title", ""), "status": "已取消", "note": p.get("reason") or ""}
        ),
        page=_wish_page(p),
    )


# ---------------------------------------------------------------- to coordinators


@template("wish.submitted")
def _submitted(p: dict[str, Any]) -> Rendered:
    urgent = p.get("urgency") == "urgent"
    place = p.get("coarse_address") or ""
    return Rendered(
        title="新心愿待审核" + ("（急）" if urgent else ""),
        body=f"新心愿{_title(p)}待您审核"
        + (f"，地点：{place}" if place else "")
        + (f"，期望时间：{_window(p)}" if _window(p) else "")
        + "。",
        urgent=urgent,
        kind="todo",
        fields=_clip(
            {"subject": p.get("title", ""), "status": "待审核", "place": place, "time": _window(p)}
        ),
        page=_wish_page(p),
    )


@template("offer.declined")
def _declined(p: dict[str, Any]) -> Rendered:
    who = p.get("volunteer_name") or "志愿者"
    return Rendered(
        title="派单邀请被婉拒",
        body=f"志愿者{who}婉拒了心愿{_title(p)}的派单邀请。{_reason(p)}请另行安排。",
        urgent=False,
        kind="todo",
        fields=_clip(
            {"subject": p.get("title", ""), "person": who, "status": "已婉拒",
             "note": p.get("reason") or ""}
        ),
        page=_wish_page(p),
    )  # fmt: skip


@template("wish.withdrawn")
def _withdrawn(p: dict[str, Any]) -> Rendered:
    # To the requester and the station's coordinators: the wish goes back to dispatch.
    return Rendered(
        title="志愿者已退单",
        body=f"接单志愿者已退出心愿{_title(p)}，心愿回到待派单，正在重新安排。{_reason(p)}",
        urgent=False,
        kind="wish_update",
        fields=_clip(
            {"subject": p.get("title", ""), "status": "重新派单中", "note": p.get("reason") or ""}
        ),
        page=_wish_page(p),
    )


@template("wish.escalated")
def _escalated(p: dict[str, Any]) -> Rendered:
    unit = p.get("unit_name") or ""
    status = p.get("status_label") or ""
    return Rendered(
        title="心愿上报待处理",
        body=f"心愿{_title(p)}"
        + (f"（{status}）" if status else "")
        + f"未能及时处理，已上报{unit or '贵单位'}，请尽快处理。"
        + _reason(p, "说明"),
        urgent=True,
        kind="todo",
        fields=_clip(
            {"subject": p.get("title", ""), "status": f"已上报{unit}",
             "place": p.get("coarse_address") or ""}
        ),
        page=_wish_page(p),
    )  # fmt: skip


# ---------------------------------------------------------------- service records


def _occasion(p: dict[str, Any]) -> str:
    """What a record is of, as a message names it: 心愿「…」, 活动「…」 or the visit's own title."""
    if p.get("activity_id"):
        return f"活动{_title(p)}"
    if p.get("pairing_id"):
        return _title(p)
    return f"心愿{_title(p)}"


@template("record.to_confirm")
def _to_confirm(p: dict[str, Any]) -> Rendered:
    who = p.get("volunteer_name") or "志愿者"
    hours = _hours(p, "attended_hours")
    return Rendered(
        title="服务时长待确认",
        body=f"志愿者{who}已完成{_occasion(p)}的服务"
        + (f"（实际服务 {hours}）" if hours else "")
        + "，请确认服务时长。",
        urgent=False,
        kind="todo",
        fields=_clip(
            {"subject": p.get("title", ""), "person": who, "status": "待确认时长", "note": hours}
        ),
        page=_record_page(p),
    )


@template("record.confirm_reminder")
def _confirm_reminder(p: dict[str, Any]) -> Rendered:
    who = p.get("volunteer_name") or "志愿者"
    waited = p.get("waiting_hours")
    return Rendered(
        title="提醒：服务时长仍待确认",
        body=f"志愿者{who}在{_occasion(p)}的服务时长"
        + (f"已等待 {waited} 小时" if waited else "仍")
        + "未确认，请尽快确认或驳回。",
        urgent=False,
        kind="todo",
        fields=_clip({"subject": p.get("title", ""), "person": who, "status": "待确认时长"}),
        page=_record_page(p),
    )


@template("record.confirm_escalated")
def _confirm_escalated(p: dict[str, Any]) -> Rendered:
    who = p.get("volunteer_name") or "志愿者"
    waited = p.get("waiting_hours")
    station = p.get("station_name") or "下级站点"
    return Rendered(
        title="服务时长逾期未确认",
        body=f"{station}志愿者{who}在{_occasion(p)}的服务时长"
        + (f"已 {waited} 小时" if waited else "长时间")
        + "无人确认，已上报贵单位，请督促或代为确认。",
        urgent=True,
        kind="todo",
        fields=_clip(
            {"subject": p.get("title", ""), "person": who, "status": "逾期未确认",
             "place": station}
        ),
        page=_record_page(p),
    )  # fmt: skip


@template("record.credited")
def _credited(p: dict[str, Any]) -> Rendered:
    hours = _hours(p)
    return Rendered(
        title="服务时长已记录",
        body=f"您在{_occasion(p)}的服务已确认，记入志愿服务时长 {hours or '0 小时'}。"
        + (f"{p['note']}。" if p.get("note") else ""),
        urgent=False,
        kind="record",
        fields=_clip({"subject": p.get("title", ""), "status": "已记录", "note": hours}),
        page=_record_page(p),
    )


@template("record.rejected")
def _record_rejected(p: dict[str, Any]) -> Rendered:
    return Rendered(
        title="服务记录未通过",
        body=f"您在{_occasion(p)}的服务记录未予确认。{_reason(p)}如有异议请联系所在站点。",
        urgent=False,
        kind="record",
        fields=_clip(
            {"subject": p.get("title", ""), "status": "未通过", "note": p.get("reason") or ""}
        ),
        page=_record_page(p),
    )


# ---------------------------------------------------------------- teams


@template("team.callup")
def _team_callup(p: dict[str, Any]) -> Rendered:
    team = p.get("team_name") or "您所在的队伍"
    when = _window(p)
    return Rendered(
        title="队伍点名邀请",
        body=f"{team}以团队名义接下了心愿{_title(p)}"
        + (f"（{when}）" if when else "")
        + "，负责人点名请您一同服务。是否参加由您自己决定，请在小程序中确认或婉拒。",
        urgent=False,
        kind="task",
        fields=_clip({"subject": p.get("title", ""), "person": team, "status": "待您确认",
                      "time": when, "place": p.get("coarse_address") or ""}),
        page=f"pages/team/callup?id={p['callup_id']}" if p.get("callup_id") else None,
    )  # fmt: skip


# ---------------------------------------------------------------- standing pairings


def _pairing_page(p: dict[str, Any]) -> str | None:
    return f"pages/pairing/detail?id={p['pairing_id']}" if p.get("pairing_id") else None


@template("pairing.visit_reminder")
def _visit_reminder(p: dict[str, Any]) -> Rendered:
    home = p.get("household") or "结对家庭"
    due = local_time(p.get("due_at"))
    return Rendered(
        title="提醒：结对走访已逾期",
        body=f"您结对帮扶的{home}"
        + (f"应在{due}前走访，" if due else "的走访已逾期，")
        + "目前还没有走访记录，请尽快上门看望并签到。",
        urgent=False,
        kind="task",
        fields=_clip({"subject": f"结对走访 {home}", "status": "逾期未走访", "time": due,
                      "place": p.get("coarse_address") or ""}),
        page=_pairing_page(p),
    )  # fmt: skip


@template("pairing.lapsing")
def _pairing_lapsing(p: dict[str, Any]) -> Rendered:
    home = p.get("household") or "结对家庭"
    due = local_time(p.get("due_at"))
    missed = p.get("missed_count")
    return Rendered(
        title="结对走访长期逾期",
        body=f"{p.get('station_name') or '本站'}结对帮扶的{home}"
        + (f"应在{due}前走访，" if due else "")
        + "提醒帮扶人后仍无走访记录"
        + (f"（累计逾期 {missed} 次）" if missed else "")
        + "，请联系帮扶人或另行安排。",
        urgent=False,
        kind="todo",
        fields=_clip({"subject": f"结对走访 {home}", "status": "长期未走访",
                      "place": p.get("coarse_address") or ""}),
        page=_pairing_page(p),
    )  # fmt: skip


@template("pairing.ended")
def _pairing_ended(p: dict[str, Any]) -> Rendered:
    home = p.get("household") or "结对家庭"
    return Rendered(
        title="结对帮扶已结束",
        body=f"与{home}的结对帮扶已结束。{_reason(p, '说明')}",
        urgent=False,
        kind="wish_update",
        fields=_clip({"subject": f"结对帮扶 {home}", "status": "已结束",
                      "note": p.get("reason") or ""}),
        page=_pairing_page(p),
    )  # fmt: skip


# ---------------------------------------------------------------- stars


def _star_page(p: dict[str, Any]) -> str:
    return "pages/star/index"


def _stars(p: dict[str, Any]) -> str:
    return f"{p.get('star', '')}星级志愿者"


@template("star.awarded")
def _star_awarded(p: dict[str, Any]) -> Rendered:
    ends = local_time(p.get("notice_ends_at"))
    return Rendered(
        title="恭喜达到星级志愿者",
        body=f"您的累计服务时长已达 {_hours(p)}，达到{_stars(p)}标准，"
        + (f"现予公示，公示期至{ends}，" if ends else "现予公示，")
        + "期满无异议即生效。",
        urgent=False,
        kind="record",
        fields=_clip({"subject": _stars(p), "status": "公示中", "time": ends}),
        page=_star_page(p),
    )


@template("star.held")
def _star_held(p: dict[str, Any]) -> Rendered:
    return Rendered(
        title="星级认定收到异议",
        body=f"您的{_stars(p)}认定在公示期内收到异议，暂缓生效，认定单位将核实后告知结果。",
        urgent=False,
        kind="record",
        fields=_clip({"subject": _stars(p), "status": "异议处理中"}),
        page=_star_page(p),
    )


@template("star.objection")
def _star_objection(p: dict[str, Any]) -> Rendered:
    who = p.get("volunteer_name") or "志愿者"
    return Rendered(
        title="星级认定异议待处理",
        body=f"志愿者{who}的{_stars(p)}认定在公示期内收到异议，请核实并作出处理决定。",
        urgent=False,
        kind="todo",
        fields=_clip({"subject": _stars(p), "person": who, "status": "异议待处理"}),
        page=_star_page(p),
    )


@template("star.revoked")
def _star_revoked(p: dict[str, Any]) -> Rendered:
    return Rendered(
        title="星级认定已撤销",
        body=f"经核实，您的{_stars(p)}认定已撤销。{_reason(p)}",
        urgent=False,
        kind="record",
        fields=_clip({"subject": _stars(p), "status": "已撤销", "note": p.get("reason") or ""}),
        page=_star_page(p),
    )


@template("star.reinstated")
def _star_reinstated(p: dict[str, Any]) -> Rendered:
    ends = local_time(p.get("notice_ends_at"))
    return Rendered(
        title="星级认定恢复公示",
        body=f"经核实，针对您{_stars(p)}认定的异议不成立，认定恢复"
        + (f"，公示期至{ends}。" if ends else "。"),
        urgent=False,
        kind="record",
        fields=_clip({"subject": _stars(p), "status": "异议不成立"}),
        page=_star_page(p),
    )


# ---------------------------------------------------------------- activities (活动报名)


def _activity_page(p: dict[str, Any]) -> str | None:
    return f"pages/activity/detail?id={p['activity_id']}" if p.get("activity_id") else None


def _activity(p: dict[str, Any], status: str, **more: str) -> dict[str, str]:
    return _clip(
        {"subject": p.get("title", ""), "status": status, "time": local_time(p.get("starts_at")),
         "place": p.get("place") or "", **more}
    )  # fmt: skip


@template("activity.promoted")
def _activity_promoted(p: dict[str, Any]) -> Rendered:
    return Rendered(
        title="活动候补成功",
        body=f"有人取消报名，您已从候补递补为活动「{p.get('title') or '活动'}」的正式名额，"
        + f"时间{local_time(p.get('starts_at'))}，地点{p.get('place') or '见活动详情'}。"
        + "如不能参加请及时取消。",
        urgent=True,
        kind="task",
        fields=_activity(p, "候补成功"),
        page=_activity_page(p),
    )


@template("activity.cancelled")
def _activity_cancelled(p: dict[str, Any]) -> Rendered:
    return Rendered(
        title="活动已取消",
        body=f"您报名的活动「{p.get('title') or '活动'}」已取消。{_reason(p)}",
        urgent=True,
        kind="task",
        fields=_activity(p, "已取消", note=p.get("reason") or ""),
        page=_activity_page(p),
    )


@template("activity.lapsed")
def _activity_lapsed(p: dict[str, Any]) -> Rendered:
    return Rendered(
        title="活动候补未成功",
        body=f"活动「{p.get('title') or '活动'}」已结束，您的候补未能递补，感谢您的报名。",
        urgent=False,
        kind="task",
        fields=_activity(p, "候补未递补"),
        page=_activity_page(p),
    )


@template("activity.no_show")
def _activity_no_show(p: dict[str, Any]) -> Rendered:
    return Rendered(
        title="活动未签到",
        body=f"您报名并录取的活动「{p.get('title') or '活动'}」没有签到记录，已记为未到。"
        + "如有误请联系发布单位。",
        urgent=False,
        kind="record",
        fields=_activity(p, "未到"),
        page=_activity_page(p),
    )


@template("activity.callup")
def _activity_callup(p: dict[str, Any]) -> Rendered:
    team = p.get("team_name") or "您的团队"
    return Rendered(
        title="团队活动邀请",
        body=f"{team}报名了活动「{p.get('title') or '活动'}」并邀请您参加，"
        + f"时间{local_time(p.get('starts_at'))}。请在小程序中接受或婉拒。",
        urgent=False,
        kind="offer",
        fields=_activity(p, "待您回复", person=team),
        page=_activity_page(p),
    )


@template("activity.signup_closed")
def _activity_signup_closed(p: dict[str, Any]) -> Rendered:
    return Rendered(
        title="活动报名已截止",
        body=f"活动「{p.get('title') or '活动'}」报名已截止：录取 {p.get('admitted', 0)}"
        + f"/{p.get('headcount', 0)} 人，候补 {p.get('waiting', 0)} 人。",
        urgent=False,
        kind="todo",
        fields=_activity(p, "报名已截止"),
        page=_activity_page(p),
    )


# ---------------------------------------------------------------- the one entry point


def _fallback(topic: str, p: dict[str, Any]) -> Rendered:
    """A topic without a template still shows something true (never raises)."""
    return Rendered(
        title="消息通知",
        body=f"{_title(p)}有新的动态，请打开小程序查看。" if p.get("title") else "您有一条新消息。",
        urgent=False,
        kind="wish_update",
        fields=_clip({"subject": p.get("title") or topic, "status": "有新动态"}),
        page=_wish_page(p),
    )


def render(topic: str, payload: dict[str, Any]) -> Rendered:
    fn = TEMPLATES.get(topic)
    return fn(payload) if fn is not None else _fallback(topic, payload)
