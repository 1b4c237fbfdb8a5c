"""Bulk import: how fast a checked volunteers' file is written, against a baseline of the same
volunteers registered one by one through the same services, in one transaction, in the same run.

    .venv/bin/python bench/imports.py [--rows 1000]

SQLite (a file in a temporary directory). The import is one transaction, so on SQLite it holds
the write lock for the figure printed: that is what other writers wait for while a large file
is written by the background timer.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy.orm import Session

from app.auth.principal import load_principal
from app.auth.users import find_or_create_resident
from app.config import Environment, Settings, settings_in_use
from app.db import make_engine
from app.imports import service
from app.imports.schemas import ImportKind
from app.migrate import upgrade
from app.volunteers import service as volunteers
from app.volunteers.schemas import VolunteerRegister
from tests.fixtures.builders import make_coordinator, make_tree
from tests.imports.sheets import workbook


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1000)
    n = parser.parse_args().rows
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bench.db"
        upgrade(url)
        settings = Settings(
            database_url=url, env=Environment.TEST, secret_key="bench-" * 8,
            import_background_rows=n + 1, import_max_rows=n + 1,
        )  # fmt: skip
        engine = make_engine(url, settings)
        with settings_in_use(settings), Session(engine) as session:
            tree = make_tree(session)
            actor = load_principal(session, make_coordinator(session, tree.townships[0]).id)
            assert actor is not None
            session.commit()
            stations = tree.stations[:2]

            started = time.perf_counter()
            for i in range(n):
                user = find_or_create_resident(session=session, phone=f"137{i:08d}", name="甲")
                station = stations[i % 2]
                body = VolunteerRegister.model_validate(
                    {"home_station_id": station.id, "lat": station.lat, "lng": station.lng,
                     "skill_codes": ["errands", "computer"],
                     "weekly_availability": [{"weekday": 5, "start": "08:30", "end": "11:30"}]}
                )  # fmt: skip
                volunteers.create_profile(
                    session=session, user_id=user.id, body=body, actor_id=actor.user_id
                )
            session.commit()
            baseline = time.perf_counter() - started

            rows = [
                {"name": f"志愿者{i}", "phone": f"138{i:08d}", "station_code": stations[i % 2].code,
                 "skills": "代购代办、computer", "availability": "周六 08:30-11:30"}
                for i in range(n)
            ]  # fmt: skip
            data = workbook(ImportKind.VOLUNTEERS, rows)
            started = time.perf_counter()
            record = service.start(
                session=session, actor=actor, unit_id=tree.townships[0].id,
                kind=ImportKind.VOLUNTEERS, data=data,
            )  # fmt: skip
            session.commit()
            imported = time.perf_counter() - started
            assert record.status == "done", record.errors
    print(f"rows                         {n}")
    print(f"registered one by one        {baseline:7.2f} s  {n / baseline:7.1f} rows/s")
    print(f"imported (read, check, write){imported:7.2f} s  {n / imported:7.1f} rows/s")
    print(f"import / baseline            {imported / baseline:7.2f}")


if __name__ == "__main__":
    main()
