"""The statistics' fact tables, kept by a trigger on the event log: each wish's first instant of
every step, and the timers' events by station; covering indexes for the hours ledger

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.models.base

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = app.models.base.UTCDateTime(timezone=True)

# step column: the condition on an event row (`e`) that makes the step.
STEPS = {
    "placed_at": "e.event = 'submit'",
    "reviewed_at": "e.event IN ('approve', 'reject')",
    "offered_at": "e.event IN ('offer', 'open_grab')",
    "accepted_at": "e.event = 'accept'",
    "completed_at": "e.to_status = 'completed'",
    "cancelled_at": "e.event = 'cancel'",
    "escalated_at": "e.event = 'escalate'",
    "rated_at": "e.event = 'rate'",
}
# Whole seconds from placing to a step (both instants cut to the second, as the statistics
# measure them): seconds column: the step's instant.
TIMED = {
    "review_seconds": "reviewed_at",
    "offer_seconds": "offered_at",
    "accept_seconds": "accepted_at",
    "complete_seconds": "completed_at",
}
# index name: (columns, columns PostgreSQL keeps in the index as well)
INDEXES: dict[str, tuple[list[str], list[str]]] = {
    "ix_wish_milestones_station_placed": (
        ["station_id", "placed_at"],
        [
            *("category_code", "programme_code", "season_code", "channel"),
            *("offered_at", "accepted_at", "completed_at", "cancelled_at", "escalated_at"),
        ],
    ),
    **{
        f"ix_wish_milestones_station_{at.removesuffix('_at')}": (["station_id", at], [seconds])
        for seconds, at in TIMED.items()
    },
    "ix_wish_milestones_station_rated": (["station_id", "rated_at"], ["rating"]),
    "ix_wish_milestones_programme": (["programme_code", "wish_id"], []),
}
HOURS_INCLUDE = ["category", "volunteer_id", "minutes", "wish_id"]
# How the wish came in, from the first submit: the resident themself, or a proxy ordering in
# the requester's role (a grid worker) or in a staff role.
CHANNEL = (
    "CASE WHEN w.proxy_id IS NULL THEN 'self' "
    "WHEN e.actor_role IN ('coordinator', 'admin') THEN 'staff' ELSE 'grid_worker' END"
)
COPIED = ("station_id", "category_code", "programme_code", "season_code", "rating")


def _earliest(column: str) -> str:
    """Keep the earlier of the stored instant and the new one (None is 'not yet')."""
    new, old = f"excluded.{column}", f"wish_milestones.{column}"
    return f"CASE WHEN {new} IS NOT NULL AND ({old} IS NULL OR {new} < {old}) THEN {new} ELSE {old} END"


def _seconds(dialect: str, start: str, end: str) -> str:
    if dialect == "postgresql":
        return (
            f"(CAST(EXTRACT(EPOCH FROM date_trunc('second', {end})) AS BIGINT)"
            f" - CAST(EXTRACT(EPOCH FROM date_trunc('second', {start})) AS BIGINT))"
        )
    return (
        f"(CAST(strftime('%s', substr({end}, 1, 19)) AS INTEGER)"
        f" - CAST(strftime('%s', substr({start}, 1, 19)) AS INTEGER))"
    )


def _upsert(event: str, dialect: str) -> str:
    """One event row (`event`: NEW in the trigger) folded into its wish's milestones."""
    steps = {column: cond.replace("e.", f"{event}.") for column, cond in STEPS.items()}
    channel = CHANNEL.replace("e.", f"{event}.")
    columns = ["wish_id", *COPIED, "channel", *STEPS]
    values = [
        "w.id",
        *(f"w.{c}" for c in COPIED),
        f"CASE WHEN {steps['placed_at']} THEN {channel} END",
        *(f"CASE WHEN {cond} THEN {event}.created_at END" for cond in steps.values()),
    ]
    placed_earlier = (
        "excluded.placed_at IS NOT NULL AND "
        "(wish_milestones.placed_at IS NULL OR excluded.placed_at < wish_milestones.placed_at)"
    )
    # The wish's own columns come with the row (the insert trigger) and follow the wish (the
    # update trigger); an event moves the steps only.
    updates = [
        f"channel = CASE WHEN {placed_earlier} THEN excluded.channel ELSE wish_milestones.channel END",
        *(f"{column} = {_earliest(column)}" for column in STEPS),
        *(
            f"{seconds} = {_seconds(dialect, _earliest('placed_at'), _earliest(at))}"
            for seconds, at in TIMED.items()
        ),
    ]
    return (
        f"INSERT INTO wish_milestones ({', '.join(columns)}) "
        f"SELECT {', '.join(values)} FROM wishes w WHERE w.id = {event}.wish_id "
        f"ON CONFLICT (wish_id) DO UPDATE SET {', '.join(updates)}"
    )


def _relevant(event: str) -> str:
    return " OR ".join(f"({cond.replace('e.', f'{event}.')})" for cond in STEPS.values())


# Every wish has its row from the start (its columns, no step yet).
START = (
    f"INSERT INTO wish_milestones (wish_id, {', '.join(COPIED)}) "
    f"VALUES (NEW.id, {', '.join(f'NEW.{c}' for c in COPIED)}) ON CONFLICT (wish_id) DO NOTHING"
)
# ... and follows the wish's columns when they change (a rating given, a category corrected).
FOLLOW = (
    f"UPDATE wish_milestones SET {', '.join(f'{c} = NEW.{c}' for c in COPIED)} "
    "WHERE wish_id = NEW.id"
)
CHANGED = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in COPIED)
SYSTEM = "NEW.actor_role = 'system'"
SYSTEM_INSERT = (
    "INSERT INTO wish_system_events (event_id, wish_id, station_id, event, from_status, created_at) "
    "SELECT NEW.id, NEW.wish_id, w.station_id, NEW.event, NEW.from_status, NEW.created_at "
    "FROM wishes w WHERE w.id = NEW.wish_id"
)


def upgrade() -> None:
    op.create_table(
        "wish_milestones",
        sa.Column("wish_id", sa.Integer(), nullable=False),
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("category_code", sa.String(length=40), nullable=False),
        sa.Column("programme_code", sa.String(length=40), nullable=True),
        sa.Column("season_code", sa.String(length=40), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=True),
        sa.Column("rating", sa.SmallInteger(), nullable=True),
        *(sa.Column(column, UTC_DATETIME, nullable=True) for column in STEPS),
        *(sa.Column(column, sa.BigInteger(), nullable=True) for column in TIMED),
        sa.ForeignKeyConstraint(["wish_id"], ["wishes.id"], name=op.f("fk_wish_milestones_wish_id_wishes")),  # fmt: skip
        sa.PrimaryKeyConstraint("wish_id", name=op.f("pk_wish_milestones")),
    )
    bind = op.get_bind()
    # What the log holds already: every wish with events, its earliest instant of each step.
    firsts = ", ".join(f"MIN(CASE WHEN {cond} THEN e.created_at END) AS {c}" for c, cond in STEPS.items())
    first_submit = (
        "(SELECT e.actor_role FROM wish_events e WHERE e.wish_id = w.id AND e.event = 'submit' "
        "ORDER BY e.created_at, e.id LIMIT 1)"
    )
    channel = CHANNEL.replace("e.actor_role", first_submit)
    op.execute(
        f"INSERT INTO wish_milestones (wish_id, {', '.join(COPIED)}, channel, "
        f"{', '.join(STEPS)}, {', '.join(TIMED)}) "
        f"SELECT w.id, {', '.join(f'w.{c}' for c in COPIED)}, "
        f"CASE WHEN f.placed_at IS NOT NULL THEN {channel} END, "
        f"{', '.join(f'f.{c}' for c in STEPS)}, "
        f"{', '.join(_seconds(bind.dialect.name, 'f.placed_at', f'f.{at}') for at in TIMED.values())} "
        f"FROM wishes w LEFT JOIN (SELECT e.wish_id, {firsts} FROM wish_events e GROUP BY e.wish_id) f "
        "ON f.wish_id = w.id"
    )
    with op.batch_alter_table("wish_milestones", schema=None) as batch_op:
        for name, (columns, include) in INDEXES.items():
            batch_op.create_index(name, columns, unique=False, postgresql_include=include)

    op.create_table(
        "wish_system_events",
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("wish_id", sa.Integer(), nullable=False),
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(["event_id"], ["wish_events.id"], name=op.f("fk_wish_system_events_event_id_wish_events")),  # fmt: skip
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_wish_system_events")),
    )
    op.execute(
        "INSERT INTO wish_system_events (event_id, wish_id, station_id, event, from_status, created_at) "
        "SELECT e.id, e.wish_id, w.station_id, e.event, e.from_status, e.created_at "
        "FROM wish_events e JOIN wishes w ON w.id = e.wish_id WHERE e.actor_role = 'system'"
    )
    with op.batch_alter_table("wish_system_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_wish_system_events_station_created",
            ["station_id", "created_at"],
            unique=False,
            postgresql_include=["event", "from_status", "wish_id"],
        )

    if bind.dialect.name == "postgresql":
        op.execute("DROP INDEX ix_hours_entries_unit_started")
        op.execute(
            "CREATE INDEX ix_hours_entries_unit_started ON hours_entries (unit_id, started_at) "
            f"INCLUDE ({', '.join(HOURS_INCLUDE)})"
        )
        op.execute(
            "CREATE FUNCTION wish_milestones_keep() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"IF {_relevant('NEW')} THEN {_upsert('NEW', bind.dialect.name)}; END IF; "
            f"IF {SYSTEM} THEN {SYSTEM_INSERT}; END IF; "
            "RETURN NULL; END $$"
        )
        op.execute(
            "CREATE TRIGGER wish_events_milestones AFTER INSERT ON wish_events FOR EACH ROW "
            f"WHEN ({_relevant('NEW')} OR {SYSTEM}) EXECUTE FUNCTION wish_milestones_keep()"
        )
        op.execute(
            "CREATE FUNCTION wish_milestones_start() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN {START}; RETURN NULL; END $$"
        )
        op.execute(
            "CREATE TRIGGER wishes_milestones AFTER INSERT ON wishes FOR EACH ROW "
            "EXECUTE FUNCTION wish_milestones_start()"
        )
        op.execute(
            "CREATE FUNCTION wish_milestones_follow() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN {FOLLOW}; RETURN NULL; END $$"
        )
        op.execute(
            f"CREATE TRIGGER wishes_milestones_follow AFTER UPDATE OF {', '.join(COPIED)} "
            f"ON wishes FOR EACH ROW WHEN ({CHANGED}) EXECUTE FUNCTION wish_milestones_follow()"
        )
        op.execute("ANALYZE wish_milestones")
        op.execute("ANALYZE wish_system_events")
    else:
        op.execute(
            "CREATE TRIGGER wish_events_milestones AFTER INSERT ON wish_events "
            f"WHEN ({_relevant('NEW')}) BEGIN {_upsert('NEW', bind.dialect.name)}; END"
        )
        op.execute(f"CREATE TRIGGER wishes_milestones AFTER INSERT ON wishes BEGIN {START}; END")
        op.execute(
            f"CREATE TRIGGER wishes_milestones_follow AFTER UPDATE OF {', '.join(COPIED)} "
            f"ON wishes WHEN ({CHANGED.replace('IS DISTINCT FROM', 'IS NOT')}) "
            f"BEGIN {FOLLOW}; END"
        )
        op.execute(
            "CREATE TRIGGER wish_events_system AFTER INSERT ON wish_events "
            f"WHEN ({SYSTEM}) BEGIN {SYSTEM_INSERT}; END"
        )


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("DROP TRIGGER wishes_milestones_follow ON wishes")
        op.execute("DROP FUNCTION wish_milestones_follow()")
        op.execute("DROP TRIGGER wishes_milestones ON wishes")
        op.execute("DROP FUNCTION wish_milestones_start()")
        op.execute("DROP TRIGGER wish_events_milestones ON wish_events")
        op.execute("DROP FUNCTION wish_milestones_keep()")
        op.execute("DROP INDEX ix_hours_entries_unit_started")
        op.execute("CREATE INDEX ix_hours_entries_unit_started ON hours_entries (unit_id, started_at)")
    else:
        op.execute("DROP TRIGGER wishes_milestones_follow")
        op.execute("DROP TRIGGER wishes_milestones")
        op.execute("DROP TRIGGER wish_events_system")
        op.execute("DROP TRIGGER wish_events_milestones")
    with op.batch_alter_table("wish_system_events", schema=None) as batch_op:
        batch_op.drop_index("ix_wish_system_events_station_created")
    op.drop_table("wish_system_events")
    with op.batch_alter_table("wish_milestones", schema=None) as batch_op:
        for name in reversed(INDEXES):
            batch_op.drop_index(name)
    op.drop_table("wish_milestones")
