"""The demo city: 湖州市 → 安吉县, two townships and four village stations, ready to use.

`seed_demo` imports the shipped excerpt of the real division data, places the units on the map,
creates an admin and one coordinator per unit, registers volunteers and residents, and plays
the wishes of `app/demo/stories.py` through the loop. Everything goes through the services a
user's request would go through, so each wish has a coherent event history, offers and outbox
rows.

The stories are replayed in time order on the service clock (`app.clock`), from about two
months before the moment of seeding up to it: finished wishes were served in the past, open ones
want service in the future. The clock is put back afterwards; do not seed inside a process that
is serving requests at the same time.

`city.py` builds the units and people, `replay.py` plays the stories on them; this module runs
both on the replayed clock and tells whoever loaded the city how to log in.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from app import clock
from app import wiring as _wiring  # noqa: F401 - every domain's handlers registered
from app.demo.activities import play_activities
from app.demo.city import (
    CITY_CODE,
    COUNTY_CODE,
    GRID_WORKER_PHONE,
    GRID_WORKER_STATIONS,
    RESIDENT_PHONE,
    VOLUNTEER_PHONE,
)
from app.demo.pairings import play_pairings
from app.demo.past import HISTORY_DAYS, HISTORY_WISHES
from app.demo.teams import TeamsReplay
from app.models import OrgUnit, OutboxMessage, Wish
from app.models.enums import WishStatus


@contextmanager
def _replayed_clock() -> Iterator[Callable[[datetime], None]]:
    """Lets the seed set the service clock to each moment of the demo's history.

    Restores whatever clock was in force before (a test's frozen clock, or the wall clock).
    """
    previous = clock.get_clock()
    try:
        yield lambda moment: clock.set_clock(lambda: moment)
    finally:
        clock.set_clock(previous)


class DemoSeeder(TeamsReplay):
    """The city with its stories played, and what to tell whoever loaded it."""

    # ------------------------------------------------------------ summary

    def summary(self) -> str:
        statuses = Counter(self.session.scalars(select(Wish.status)))
        county = self.units[COUNTY_CODE]
        n_listed_residents = sum(len(r) for r in self.residents.values()) + sum(
            len(r) for r in self.past_residents.values()
        )
        n_residents = n_listed_residents + self.proxied
        n_volunteers = len(self.volunteers) + len(self.past_volunteers)
        lines = [
            f"[bold green]演示城市已载入[/bold green]：{self.units[CITY_CODE].name} → {county.name}"
            "，2 个实践所、4 个实践站",
            f"单位 {len(self.units)} 个，志愿者 {n_volunteers} 名，"
            f"群众 {n_residents} 名，心愿 {statuses.total()} 条"
            f"（近 {HISTORY_DAYS // 30} 个月的历史 {len(self.past)} 条，"
            f"眼下的 {len(self.stories)} 条）",
            "心愿状态："
            + "，".join(
                f"{status} {statuses[status]}" for status in WishStatus if statuses[status]
            ),
            "",
            "[bold]登录账号[/bold]（POST /api/v1/auth/login）：",
        ]
        for username, password, name, unit in self.accounts:
            lines.append(f"  [cyan]{username:<20}[/cyan] {password:<11} {unit}（{name}）")
        inboxes = self.session.execute(
            select(func.count(), func.count(distinct(OutboxMessage.recipient_id))).where(
                OutboxMessage.recipient_id.is_not(None)
            )
        ).one()
        lines.append(
            f"消息 {inboxes[0]} 条，发给 {inboxes[1]} 人："
            "各自登录后查看 GET /api/v1/me/notifications"
        )
        lines += [
            "",
            "志愿者与群众用手机号登录（POST /api/v1/auth/dev-login，仅开发环境）：",
            f"  志愿者 {VOLUNTEER_PHONE.format(1)} … {VOLUNTEER_PHONE.format(n_volunteers)}，"
            f"群众 {RESIDENT_PHONE.format(1)} … {RESIDENT_PHONE.format(n_listed_residents)}，"
            f"网格员 {GRID_WORKER_PHONE.format(1)}（{self.units[GRID_WORKER_STATIONS[0]].name}）",
        ]
        return "\n".join(lines)


def seed_demo(*, session: Session, history_wishes: int = HISTORY_WISHES) -> str:
    """Load the demo city; does nothing if its county is already there. Does not commit.

    `history_wishes`: how many wishes the months before the stories draw (0: none)."""
    existing = session.scalar(select(OrgUnit.name).where(OrgUnit.code == COUNTY_CODE))
    if existing is not None:
        return f"[yellow]演示数据已存在[/yellow]（{existing}，{COUNTY_CODE}），未做任何改动"
    now = clock.now()
    with _replayed_clock() as set_clock:
        seeder = DemoSeeder(session, now, set_clock)
        seeder.history_wishes = history_wishes
        seeder.import_units()
        seeder.create_accounts()
        seeder.register_volunteers()
        seeder.create_residents()
        seeder.play_stories()
        play_pairings(seeder)
        play_activities(seeder)
        session.flush()
    return seeder.summary()
