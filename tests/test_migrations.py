"""The migrations are the schema's only source: they match the models, go down and up again,
and keep the event log append-only on both engines."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import DatabaseError, IntegrityError

from app import migrate
from app.db import make_engine
from tests.fixtures.builders import make_resident, make_tree, make_wish
from tests.fixtures.databases import fresh_database


def test_models_match_migrations(database_url: str) -> None:
    migrate.check(database_url)  # raises if autogenerate would produce any operation


def test_downgrade_to_base_and_up_again(engine_name: str, tmp_path: Path) -> None:
    with fresh_database(engine_name, tmp_path) as url:
        migrate.downgrade(url, "base")
        engine = make_engine(url)
        with engine.connect() as conn:
            names = set(conn.dialect.get_table_names(conn))
        assert names <= {"alembic_version"}
        migrate.upgrade(url)
        migrate.check(url)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM categories")).scalar_one() == 10
        engine.dispose()


@pytest.mark.parametrize(
    "statement", ["UPDATE wish_events SET reason = 'x'", "DELETE FROM wish_events"]
)
def test_event_log_is_append_only(connection: Connection, statement: str) -> None:
    from sqlalchemy.orm import Session

    from app.models import WishEventRecord
    from app.wishes.state import WishEvent

    with Session(bind=connection, join_transaction_mode="create_savepoint") as session:
        tree = make_tree(session)
        wish = make_wish(session, station=tree.stations[0], requester=make_resident(session))
        assert wish.submitted_at is not None
        session.add(
            WishEventRecord(
                wish_id=wish.id,
                event=WishEvent.SUBMIT,
                to_status="submitted",
                actor_role="requester",
                data={},
                created_at=wish.submitted_at,
            )
        )
        session.flush()
        savepoint = connection.begin_nested()
        with pytest.raises((DatabaseError, IntegrityError)) as raised:
            connection.execute(text(statement))
        savepoint.rollback()
        assert "append-only" in str(raised.value)
