"""The catalogue of categories, skills, programmes and season themes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.cache import TTLCache
from app.catalogue.schemas import CatalogueKind, EntryCreate, EntryFields
from app.errors import BadRequest, Conflict, NotFound
from app.matching.catalogue import forget_catalogue
from app.models import Category, Programme, SeasonTheme, Skill

MODELS: dict[CatalogueKind, Any] = {
    CatalogueKind.CATEGORIES: Category,
    CatalogueKind.SKILLS: Skill,
    CatalogueKind.PROGRAMMES: Programme,
    CatalogueKind.SEASONS: SeasonTheme,
}

# Fields that only some kinds have.
_ONLY = {
    "risky": {CatalogueKind.CATEGORIES},
    "min_age": {CatalogueKind.CATEGORIES},
    "max_age": {CatalogueKind.CATEGORIES},
    "needs_qualification": {CatalogueKind.SKILLS},
    "description": {CatalogueKind.CATEGORIES, CatalogueKind.PROGRAMMES, CatalogueKind.SEASONS},
}


class CatalogueEntryNotFound(NotFound):
    code = "CATALOGUE_ENTRY_NOT_FOUND"
    message = "目录条目不存在"


class CatalogueEntryExists(Conflict):
    code = "CATALOGUE_ENTRY_EXISTS"
    message = "该编码或名称已存在"


class CatalogueFull(Conflict):
    code = "CATALOGUE_FULL"
    message = "类别和技能各至多 64 项，已满：请修改或停用已有条目"


class FieldNotApplicable(BadRequest):
    code = "FIELD_NOT_APPLICABLE"
    message = "该目录类型没有此字段"


# Keyed by nothing but this one question (one entry).
QUALIFIED_CACHE: TTLCache[str, frozenset[str]] = TTLCache(60.0)
_QUALIFIED = "skills needing a qualification"


def skills_needing_qualification(session: Session) -> frozenset[str]:
    """Codes of skills that need a qualification (read at most once a minute per process)."""
    cached = QUALIFIED_CACHE.get(_QUALIFIED)
    if cached is not None:
        return cached
    codes = frozenset(
        session.scalars(select(Skill.code).where(Skill.needs_qualification.is_(True)))
    )
    QUALIFIED_CACHE.put(_QUALIFIED, codes)
    return codes


def _forget_qualified() -> None:
    QUALIFIED_CACHE.clear()
    forget_catalogue()


def entries(*, session: Session, kind: CatalogueKind, active_only: bool = False) -> list[Any]:
    model = MODELS[kind]
    query = select(model).order_by(model.sort_order, model.code)
    if active_only:
        query = query.where(model.is_active.is_(True))
    return list(session.scalars(query))


def _apply(kind: CatalogueKind, entry: Any, fields: EntryFields) -> None:
    values = fields.model_dump(exclude_unset=True, exclude={"code"})
    wrong = [name for name in values if name in _ONLY and kind not in _ONLY[name]]
    if wrong:
        raise FieldNotApplicable(details={"fields": wrong, "kind": kind})
    for name, value in values.items():
        if value is None and name not in ("min_age", "max_age"):
            continue
        setattr(entry, name, value)
    if kind == CatalogueKind.CATEGORIES:
        lo, hi = entry.min_age, entry.max_age
        if lo is not None and hi is not None and lo > hi:
            raise BadRequest("min_age 不能大于 max_age", code="INVALID_AGE_RANGE")


def _name_taken(session: Session, model: Any, name: str, code: str) -> bool:
    return (
        session.scalar(select(model.code).where(model.name == name, model.code != code)) is not None
    )


# Categories and skills each own a permanent bit in the volunteers' masks (0–63): retired
# entries keep theirs, so that no old mask ever means a new entry.
MASK_BITS = 64


def _free_bit(session: Session, model: Any) -> int:
    taken = set(session.scalars(select(model.bit)))
    free = next((bit for bit in range(MASK_BITS) if bit not in taken), None)
    if free is None:
        raise CatalogueFull()
    return free


def create_entry(*, session: Session, kind: CatalogueKind, body: EntryCreate) -> Any:
    model = MODELS[kind]
    if session.get(model, body.code) is not None or _name_taken(
        session, model, body.name, body.code
    ):
        raise CatalogueEntryExists()
    entry = model(code=body.code, name=body.name)
    if "bit" in model.__table__.c:
        entry.bit = _free_bit(session, model)
    _apply(kind, entry, body)
    session.add(entry)
    session.flush()
    _forget_qualified()
    return entry


def update_entry(*, session: Session, kind: CatalogueKind, code: str, body: EntryFields) -> Any:
    model = MODELS[kind]
    entry = session.get(model, code)
    if entry is None:
        raise CatalogueEntryNotFound()
    if body.name is not None and _name_taken(session, model, body.name, code):
        raise CatalogueEntryExists()
    _apply(kind, entry, body)
    session.flush()
    _forget_qualified()
    return entry
