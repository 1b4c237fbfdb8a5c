"""All ORM models, importable from one place (Alembic autogenerate reads `Base.metadata`)."""

from app.models.accounts import (
    AuthRevocation,
    AuthSession,
    RefreshToken,
    RoleGrant,
    User,
    WechatAccessToken,
)
from app.models.activities import Activity, ActivitySession, ActivitySignup, ActivitySkill
from app.models.base import Base
from app.models.batch_apply import BatchApply
from app.models.catalogue import (
    Category,
    CategorySkill,
    Programme,
    SeasonAffinity,
    SeasonPeriod,
    SeasonTheme,
    Skill,
)
from app.models.dispatch import DispatchPolicy, Job
from app.models.idempotency import IdempotencyKey
from app.models.imports import BulkImport
from app.models.org import OrgUnit
from app.models.pairings import (
    Household,
    HouseholdCategory,
    HouseholdCategoryLink,
    Pairing,
    PairingVisit,
)
from app.models.privacy import AccessLog, ConsentText
from app.models.push import NotificationPreference, SmsDailyCount, SubscriptionQuota
from app.models.records import (
    Attendance,
    Certificate,
    Consent,
    HoursEntry,
    PointsEntry,
    RecordRules,
    StarAward,
    StarLadder,
)
from app.models.stats import RankingWeight
from app.models.teams import Team, TeamAdoption, TeamCallup, TeamMember
from app.models.volunteers import HomeMove, Volunteer, VolunteerPreference, VolunteerSkill
from app.models.webhooks import WebhookSubscriber
from app.models.wishes import (
    Offer,
    OutboxMessage,
    SystemWishEvent,
    Wish,
    WishEventRecord,
    WishMilestones,
    WishSkill,
)

__all__ = [
    "AccessLog",
    "Activity",
    "ActivitySession",
    "ActivitySignup",
    "ActivitySkill",
    "Attendance",
    "AuthRevocation",
    "AuthSession",
    "Base",
    "BatchApply",
    "BulkImport",
    "Category",
    "CategorySkill",
    "Certificate",
    "Consent",
    "ConsentText",
    "DispatchPolicy",
    "HomeMove",
    "HoursEntry",
    "Household",
    "HouseholdCategory",
    "HouseholdCategoryLink",
    "IdempotencyKey",
    "Job",
    "NotificationPreference",
    "Offer",
    "OrgUnit",
    "OutboxMessage",
    "Pairing",
    "PairingVisit",
    "PointsEntry",
    "Programme",
    "RankingWeight",
    "RecordRules",
    "RefreshToken",
    "RoleGrant",
    "SeasonAffinity",
    "SeasonPeriod",
    "SeasonTheme",
    "Skill",
    "SmsDailyCount",
    "StarAward",
    "StarLadder",
    "SubscriptionQuota",
    "SystemWishEvent",
    "Team",
    "TeamAdoption",
    "TeamCallup",
    "TeamMember",
    "User",
    "Volunteer",
    "VolunteerPreference",
    "VolunteerSkill",
    "WebhookSubscriber",
    "WechatAccessToken",
    "Wish",
    "WishEventRecord",
    "WishMilestones",
    "WishSkill",
]
