"""Personal data endpoints: consent texts and consents, the access log. Reveals and deleting
one's account are in app/rights/router.py."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query

from app import clock
from app.auth.deps import AdminUser, CurrentUser
from app.db import SessionDep
from app.models import AccessLog, Consent
from app.pagination import Page, PageDep, make_page
from app.privacy import access_log, consent
from app.privacy.schemas import (
    AccessLogOut,
    ConsentIn,
    ConsentOut,
    ConsentTextIn,
    ConsentTextOut,
    ConsentVersion,
    MyAccessOut,
)
from app.routing import make_router
from app.schemas import Id, Instant

router = make_router(tags=["个人信息保护"])

CONSENT_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "授权文本版本不存在（CONSENT_VERSION_UNKNOWN）"},
    404: {"description": "该事项暂无生效文本（CONSENT_TEXT_NOT_FOUND）"},
    409: {"description": "授权文本已更新（CONSENT_VERSION_STALE，details.current_version）"},
}


# ---------------------------------------------------------------- consent texts


def _text_out(text: Any) -> ConsentTextOut:
    return ConsentTextOut(
        purpose=text.purpose,
        version=text.version,
        title=text.title,
        body=text.body,
        effective_date=text.effective_date,
    )


@router.get(
    "/consent-texts/{purpose}",
    response_model=ConsentTextOut,
    responses={404: {"description": "CONSENT_TEXT_NOT_FOUND"}},
    summary="授权文本（默认现行版本；登录前即可阅读）",
)
def get_consent_text(
    purpose: consent.ConsentPurpose,
    session: SessionDep,
    version: Annotated[ConsentVersion | None, Query(description="指定版本")] = None,
) -> ConsentTextOut:
    """无需登录：某事项（personal_info 个人信息、location 位置信息）的授权文本，默认现行版本，
    可用 version 查看历史版本。
    小程序在请求授权前展示此文本。版本不存在返回 404 CONSENT_TEXT_NOT_FOUND。
    """
    text = (
        consent.text_version(session, purpose, version)
        if version is not None
        else consent.current_text(session, purpose, consent.today(clock.now()))
    )
    if text is None:
        raise consent.ConsentTextNotFound(details={"purpose": purpose, "version": version})
    return _text_out(text)


@router.post(
    "/admin/consent-texts",
    response_model=ConsentTextOut,
    status_code=201,
    responses={409: {"description": "CONSENT_VERSION_EXISTS"}},
    summary="管理员：发布授权文本的新版本（已发布文本不可修改）",
)
def publish_consent_text(
    body: ConsentTextIn, session: SessionDep, actor: AdminUser
) -> ConsentTextOut:
    """管理员：发布授权文本的新版本（可指定生效日期，不得早于今天）；已发布的版本不可修改。
    版本号已存在返回 409 CONSENT_VERSION_EXISTS。返回新版本。
    """
    text = consent.publish(
        session,
        purpose=body.purpose,
        version=body.version,
        title=body.title,
        body=body.body,
        effective_date=body.effective_date,
        actor_id=actor.user_id,
        now=clock.now(),
    )
    return _text_out(text)


# ---------------------------------------------------------------- my consents


def _consent_out(
    session: SessionDep,
    purpose: consent.ConsentPurpose,
    row: Consent | None,
    removed: int | None = None,
) -> ConsentOut:
    current = consent.current_text(session, purpose, consent.today(clock.now()))
    granted = row is not None and row.granted
    return ConsentOut(
        purpose=purpose,
        granted=granted,
        version=row.version if row is not None else None,
        method=consent.Method(row.method) if row is not None and row.method else None,
        since=row.created_at if row is not None else None,
        current_version=current.version if current is not None else None,
        up_to_date=granted
        and current is not None
        and row is not None
        and row.version == current.version,
        removed_fixes=removed,
    )


@router.get("/me/consents", response_model=list[ConsentOut], summary="我的授权（各事项）")
def my_consents(session: SessionDep, actor: CurrentUser) -> list[ConsentOut]:
    """任何已登录用户：本人各事项的授权状态（是否同意、同意的文本版本与时间，
    现行版本是否更新）。
    """
    return [
        _consent_out(session, purpose, consent.latest(session, actor.user_id, purpose))
        for purpose in consent.ConsentPurpose
    ]


@router.get("/me/consents/{purpose}", response_model=ConsentOut, summary="我的某项授权")
def my_consent(
    purpose: consent.ConsentPurpose, session: SessionDep, actor: CurrentUser
) -> ConsentOut:
    """任何已登录用户：本人某一事项的授权状态。"""
    return _consent_out(session, purpose, consent.latest(session, actor.user_id, purpose))


@router.put(
    "/me/consents/{purpose}",
    response_model=ConsentOut,
    responses=CONSENT_ERRORS,
    summary="同意或撤回授权（同意须注明文本版本；撤回位置授权即删除已保存的签到签退定位）",
)
def set_consent(
    purpose: consent.ConsentPurpose, body: ConsentIn, session: SessionDep, actor: CurrentUser
) -> ConsentOut:
    """任何已登录用户：同意（须注明所读文本的版本）或撤回某事项的授权。
    版本不是现行版本返回 409 CONSENT_VERSION_STALE；撤回位置授权会删除已保存的签到签退定位。
    返回授权状态。
    """
    now = clock.now()
    if body.granted:
        assert body.version is not None
        row = consent.grant(
            session, user_id=actor.user_id, purpose=purpose, version=body.version, now=now
        )
        return _consent_out(session, purpose, row)
    withdrawal = consent.withdraw(session, user_id=actor.user_id, purpose=purpose, now=now)
    removed = withdrawal.removed_fixes if purpose == consent.ConsentPurpose.LOCATION else None
    return _consent_out(session, purpose, withdrawal.row, removed)


# ---------------------------------------------------------------- the access log


def _fields(row: AccessLog) -> list[str]:
    return row.fields.split(",") if row.fields else []


@router.get(
    "/admin/access-log",
    response_model=Page[AccessLogOut],
    summary="管理员：个人信息查看记录（最新在前，可筛选）",
)
def admin_access_log(
    session: SessionDep,
    _admin: AdminUser,
    page: PageDep,
    actor_id: Annotated[Id | None, Query(description="查看人")] = None,
    subject_user_id: Annotated[Id | None, Query(description="被查看人")] = None,
    wish_id: Annotated[Id | None, Query()] = None,
    volunteer_id: Annotated[Id | None, Query()] = None,
    purpose: access_log.AccessPurpose | None = None,
    since: Annotated[Instant | None, Query()] = None,
    until: Annotated[Instant | None, Query()] = None,
) -> Page[AccessLogOut]:
    """管理员：个人信息的查看记录（谁、何时、为何查看了谁的完整信息），
    可按查看人、被查看人、心愿、志愿者、用途与时间筛选，最新在前，分页返回。
    """
    rows = session.execute(
        access_log.query(
            actor_id=actor_id,
            subject_user_id=subject_user_id,
            wish_id=wish_id,
            volunteer_id=volunteer_id,
            purpose=purpose,
            since=since,
            until=until,
            before_id=page.after_id,
            limit=page.limit,
        )
    ).all()
    entries = [row[0] for row in rows]
    names = {row[0].id: (row[1], row[2]) for row in rows}
    return make_page(
        entries,
        page,
        lambda row: AccessLogOut(
            id=row.id,
            actor_id=row.actor_id,
            actor_name=names[row.id][0],
            actor_role=row.actor_role,
            subject_user_id=row.subject_user_id,
            subject_name=names[row.id][1],
            wish_id=row.wish_id,
            volunteer_id=row.volunteer_id,
            fields=_fields(row),
            purpose=row.purpose,
            reason=row.reason,
            created_at=row.created_at,
        ),
    )


@router.get(
    "/me/access-log",
    response_model=Page[MyAccessOut],
    summary="谁查看过我的个人信息（最新在前）",
)
def my_access_log(session: SessionDep, actor: CurrentUser, page: PageDep) -> Page[MyAccessOut]:
    """任何已登录用户：谁在何时、因何查看过本人的完整个人信息，最新在前，分页返回。"""
    rows = session.execute(
        access_log.query(subject_user_id=actor.user_id, before_id=page.after_id, limit=page.limit)
    ).all()
    return make_page(
        [row[0] for row in rows],
        page,
        lambda row: MyAccessOut(
            id=row.id,
            actor_role=row.actor_role,
            fields=_fields(row),
            purpose=row.purpose,
            wish_id=row.wish_id,
            created_at=row.created_at,
        ),
    )
