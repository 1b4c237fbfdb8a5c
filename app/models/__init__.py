"""All ORM models, importable from one place (Alembic autogenerate reads `Base.metadata`)."""

from app.models.accounts import RoleGrant, User
from app.models.base import Base
from app.models.catalogue import Category, Programme, SeasonTheme, Skill
from app.models.org import OrgUnit
from app.models.volunteers import Volunteer, VolunteerSkill
from app.models.wishes import Offer, OutboxMessage, Wish, WishEventRecord, WishSkill

__all__ = [
    "Base",
    "Category",
    "Offer",
    "OrgUnit",
    "OutboxMessage",
    "Programme",
    "RoleGrant",
    "SeasonTheme",
    "Skill",
    "User",
    "Volunteer",
    "VolunteerSkill",
    "Wish",
    "WishEventRecord",
    "WishSkill",
]
