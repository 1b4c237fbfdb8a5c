from __future__ import annotations

from app.auth.deps import AdminUser, CurrentUser
from app.catalogue import service
from app.catalogue.schemas import CatalogueKind, CatalogueOut, EntryCreate, EntryOut, EntryUpdate
from app.db import SessionDep
from app.routing import make_router
from app.schemas import CodePath

router = make_router(prefix="/catalogue", tags=["服务目录"])


@router.get("", response_model=CatalogueOut, summary="服务类别、技能、项目、季节主题")
def catalogue(
    session: SessionDep, _actor: CurrentUser, include_inactive: bool = False
) -> CatalogueOut:
    def kind(k: CatalogueKind) -> list[EntryOut]:
        return [
            EntryOut.model_validate(e)
            for e in service.entries(session=session, kind=k, active_only=not include_inactive)
        ]

    return CatalogueOut(
        categories=kind(CatalogueKind.CATEGORIES),
        skills=kind(CatalogueKind.SKILLS),
        programmes=kind(CatalogueKind.PROGRAMMES),
        seasons=kind(CatalogueKind.SEASONS),
    )


@router.post("/{kind}", response_model=EntryOut, status_code=201, summary="管理员：新增目录条目")
def create_entry(
    kind: CatalogueKind, body: EntryCreate, session: SessionDep, _admin: AdminUser
) -> EntryOut:
    return EntryOut.model_validate(service.create_entry(session=session, kind=kind, body=body))


@router.patch("/{kind}/{code}", response_model=EntryOut, summary="管理员：修改或停用目录条目")
def update_entry(
    kind: CatalogueKind, code: CodePath, body: EntryUpdate, session: SessionDep, _admin: AdminUser
) -> EntryOut:
    return EntryOut.model_validate(
        service.update_entry(session=session, kind=kind, code=code, body=body)
    )
