"""Record certificates (记录证明): issuing, listing, the PDF and the public verification."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import Path, Response

from app import clock
from app.auth.deps import CurrentUser, StaffUser, VolunteerUser
from app.db import SessionDep
from app.pagination import Page, PageDep, make_page
from app.records.certificates import pdf as certificate_pdf
from app.records.certificates import service
from app.records.certificates.schemas import (
    CertificateIssue,
    CertificateOut,
    CertificateVerification,
    MyCertificateIssue,
)
from app.routing import make_router
from app.schemas import IdPath
from app.volunteers.service import visible_volunteer

router = make_router(tags=["服务记录与激励"])

# Any text: a malformed number is a 404 like an unknown one (never a 422 that tells them apart).
NumberPath = Annotated[str, Path(description="证明编号")]


@router.post(
    "/volunteers/{volunteer_id}/certificates",
    response_model=CertificateOut,
    status_code=201,
    summary="协调员：为志愿者出具志愿服务记录证明（谁记录谁证明）",
)
def issue(
    volunteer_id: IdPath, body: CertificateIssue, session: SessionDep, actor: StaffUser
) -> CertificateOut:
    """辖区协调员：以本单位（或指定的辖区单位）名义为志愿者出具志愿服务记录证明，
    只证明该单位记录的服务（谁记录谁证明）。
    该单位没有可证明的记录返回 400 NOTHING_TO_CERTIFY；不能为本人出具（403 SELF_APPROVAL）。
    返回证明（含编号，可下载 PDF）。
    """
    volunteer, station = visible_volunteer(session=session, actor=actor, volunteer_id=volunteer_id)
    issued = service.issue_for_volunteer(
        session=session,
        actor=actor,
        volunteer=volunteer,
        station=station,
        unit_id=body.unit_id,
        now=clock.now(),
    )
    return service.certificate_out(issued)


@router.get(
    "/volunteers/{volunteer_id}/certificates",
    response_model=Page[CertificateOut],
    summary="协调员：志愿者的记录证明（新的在前）",
)
def list_for_volunteer(
    volunteer_id: IdPath, session: SessionDep, actor: StaffUser, page: PageDep
) -> Page[CertificateOut]:
    """辖区协调员：该志愿者的全部记录证明，新的在前，分页返回。"""
    volunteer, _ = visible_volunteer(session=session, actor=actor, volunteer_id=volunteer_id)
    rows = service.list_for_volunteer(
        session, volunteer_id=volunteer.id, before_id=page.after_id, limit=page.limit
    )
    return make_page(rows, page, service.certificate_out)


@router.post(
    "/me/certificates",
    response_model=CertificateOut,
    status_code=201,
    summary="申请记录了我的志愿服务的单位出具记录证明",
)
def issue_mine(
    body: MyCertificateIssue, session: SessionDep, actor: VolunteerUser
) -> CertificateOut:
    """志愿者本人：请记录了本人志愿服务的单位出具记录证明，立即生成。
    该单位没有本人的服务记录返回 400 NOTHING_TO_CERTIFY。返回证明（含编号，可下载 PDF）。
    """
    issued = service.issue_for_self(
        session=session, actor=actor, unit_id=body.unit_id, now=clock.now()
    )
    return service.certificate_out(issued)


@router.get(
    "/me/certificates", response_model=Page[CertificateOut], summary="我的记录证明（新的在前）"
)
def list_mine(session: SessionDep, actor: VolunteerUser, page: PageDep) -> Page[CertificateOut]:
    """志愿者本人：本人的全部记录证明，新的在前，分页返回。"""
    assert actor.volunteer_id is not None
    rows = service.list_for_volunteer(
        session, volunteer_id=actor.volunteer_id, before_id=page.after_id, limit=page.limit
    )
    return make_page(rows, page, service.certificate_out)


@router.get(
    "/certificates/{number}/pdf",
    response_class=Response,
    responses={
        200: {
            "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
            "description": "证明 PDF",
        }
    },
    summary="下载记录证明（PDF）：志愿者本人或出具单位的协调员",
)
def pdf(number: NumberPath, session: SessionDep, actor: CurrentUser) -> Response:
    """志愿者本人或出具单位的协调员：下载记录证明的 PDF 文件（application/pdf）。
    编号不存在或无权下载返回 404 CERTIFICATE_NOT_FOUND。
    """
    found = service.readable(session, actor=actor, number=number)
    content = certificate_pdf.render(found.certificate, unit_name=found.unit.name)
    number = found.certificate.number
    return Response(
        content=content,
        media_type="application/pdf",
        headers={
            "Content-Disposition": (
                f'attachment; filename="certificate-{number}.pdf"; '
                f"filename*=UTF-8''{quote(f'志愿服务记录证明-{number}.pdf')}"
            ),
            "Cache-Control": "private, no-store",
        },
    )


@router.get(
    "/public/certificates/{number}",
    response_model=CertificateVerification,
    summary="查验记录证明（无需登录；仅返回脱敏姓名、出具单位、日期和时长）",
)
def verify(number: NumberPath, session: SessionDep) -> CertificateVerification:
    """无需登录：凭证明编号查验记录证明的真伪，只返回脱敏姓名、出具单位、出具日期与服务时长。
    编号不存在返回 404 CERTIFICATE_NOT_FOUND。
    """
    # No principal on purpose: whoever holds a certificate may check it.
    return service.verify(session, number)
