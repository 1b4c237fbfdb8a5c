"""The demo's teams and organisations, played through the real services in the stories'
timeline: 余村's own volunteer team, and an enterprise at 山河村 that registers with the county
centre, is verified, takes on staff as members, adopts its village (万企帮万户) and takes a
resident's wish as a team: its lead accepts the station's offer and calls up three members; two
accept and serve beside the lead, one declines. The station confirms everyone's hours, so the
enterprise's hours, record, honour list and help count have something to show.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from app import clock
from app.attendance.schemas import AttendanceIn
from app.attendance.service import attend
from app.demo.city import COUNTY_CODE, DemoVolunteer, scatter
from app.demo.history import HistoryReplay
from app.demo.replay import Action
from app.demo.stories import SHANHE, YUCUN
from app.models import Attendance, TeamCallup, Wish
from app.records.hours.schemas import ConfirmIn
from app.records.hours.service import confirm
from app.teams import adoptions, callups, membership, service
from app.teams.callups import member_reasons
from app.teams.schemas import AcceptAsTeamIn, AdoptionIn, TeamCreate, TeamKind
from app.wishes.intake import create_wish
from app.wishes.schemas import NoteIn, OfferIn, RateIn, WishCreate
from app.wishes.state import WishEvent

ENTERPRISE = "安吉竹海生态科技有限公司"
VILLAGE_TEAM = "余村助老志愿服务队"


@dataclass
class TeamWish:
    wish_id: int = 0


class TeamsReplay(HistoryReplay):
    """The stories and the history, with the teams' steps in the same timeline."""

    def history_steps(self) -> list[tuple[datetime, Action]]:
        return [*super().history_steps(), *self.team_steps()]

    def team_steps(self) -> list[tuple[datetime, Action]]:
        yucun = [dv for dv in self.volunteers if dv.station == YUCUN]
        shanhe = [dv for dv in self.volunteers if dv.station == SHANHE]
        # The last of each station's volunteers: the stories lean on the first ones.
        team_lead, team_members = yucun[-1], yucun[-4:-1]
        boss, staff = shanhe[-1], shanhe[-5:-1]
        ids: dict[str, int] = {}
        wish = TeamWish()
        steps: list[tuple[datetime, Action]] = [
            (self.at(-45, 9), lambda: ids.update(team=self.village_team(team_lead))),
            (self.at(-42, 9), lambda: ids.update(enterprise=self.register(boss))),
            (self.at(-41, 10), lambda: self.verify(ids["enterprise"])),
            (self.at(-39, 10), lambda: self.adopt_village(ids["enterprise"])),
            (self.at(-20, 8), lambda: self.order(wish)),
        ]
        for i, dv in enumerate(team_members):
            steps.append((self.at(-44, 10, i), self.applying(ids, "team", dv, team_lead, i < 2)))
        for i, dv in enumerate(staff):
            steps.append((self.at(-41, 11, i), self.applying(ids, "enterprise", dv, boss, True)))
        steps += self.served_as_team(wish, ids, boss, staff[:3])
        return steps

    # ------------------------------------------------------------ the teams

    def village_team(self, lead: DemoVolunteer) -> int:
        coordinator = self.principal(self.coordinators[YUCUN].id)
        body = TeamCreate(
            kind=TeamKind.TEAM,
            name=VILLAGE_TEAM,
            unit_id=self.units[YUCUN].id,
            description="每周走访村里的独居老人，代购、陪诊、打扫",
            lead_volunteer_id=lead.volunteer.id,
        )
        return service.create_team(self.session, body=body, actor=coordinator).id

    def register(self, boss: DemoVolunteer) -> int:
        body = TeamCreate(
            kind=TeamKind.ENTERPRISE,
            name=ENTERPRISE,
            unit_id=self.units[COUNTY_CODE].id,
            description="竹制品企业员工志愿服务队，结对帮扶山河村",
            credit_code="91330523MA2B3C4D5E",
            contact_name=boss.user.name,
            contact_phone=boss.user.phone,
        )
        return service.create_team(self.session, body=body, actor=self.principal(boss.user.id)).id

    def verify(self, team_id: int) -> None:
        centre = self.principal(self.coordinators[COUNTY_CODE].id)
        service.decide(self.session, team_id=team_id, actor=centre, verify=True,
                       reason="营业执照与信用代码核验无误")  # fmt: skip

    def applying(
        self, ids: dict[str, int], key: str, dv: DemoVolunteer, lead: DemoVolunteer, approved: bool
    ) -> Action:
        """The volunteer applies; the lead approves an hour later (or the application waits)."""

        def step() -> None:
            me = self.principal(dv.user.id)
            row = membership.apply(self.session, team_id=ids[key], actor=me, note="想一起参加")
            if approved:
                self.set_clock(clock.now() + timedelta(hours=1))
                membership.answer_application(self.session, member_id=row.id,
                                              actor=self.principal(lead.user.id), approve=True,
                                              reason=None)  # fmt: skip

        return step

    def adopt_village(self, team_id: int) -> None:
        station = self.principal(self.coordinators[SHANHE].id)
        body = AdoptionIn(village_id=self.units[SHANHE].id, note="帮销竹制品，每月进村服务一次")
        adoptions.adopt(self.session, team_id=team_id, body=body, actor=station)

    # ------------------------------------------------------------ a wish taken as a team

    def order(self, wish: TeamWish) -> None:
        resident = self.residents[SHANHE][0]
        station = self.units[SHANHE]
        assert station.lat is not None and station.lng is not None
        lat, lng = scatter(self.rng, station.lat, station.lng, 600)
        start = self.at(-18, 9)
        created = create_wish(
            session=self.session,
            actor=self.principal(resident.id),
            body=WishCreate(
                category_code="elderly_orphan_care",
                title="帮独居的奶奶打扫院子、整理菜地",
                description="院子里堆了不少竹料，菜地也荒了，一个人弄不动",
                coarse_address="山河村村委会附近",
                full_address="山河村 2 组 8 号",
                contact_phone=resident.phone,
                lat=lat,
                lng=lng,
                wanted_start_at=start,
                wanted_end_at=start + timedelta(hours=3),
                programme_code="enterprises_households",
                station_id=station.id,
            ),
        )
        wish.wish_id = created.id

    def served_as_team(
        self, wish: TeamWish, ids: dict[str, int], boss: DemoVolunteer, staff: list[DemoVolunteer]
    ) -> list[tuple[datetime, Action]]:
        coordinator, resident = self.coordinators[SHANHE], self.residents[SHANHE][0]
        thanks = RateIn(score=5, comment="院子干净了，菜也种上了")
        steps: list[tuple[datetime, Action]] = [
            (self.at(-20, 9, 30), lambda: self.event(wish, WishEvent.APPROVE, coordinator,
                                                     NoteIn(note="情况属实，同意受理"))),
            (self.at(-20, 10), lambda: self.event(wish, WishEvent.OFFER, coordinator,
                                                  OfferIn(volunteer_ids=[boss.volunteer.id]))),
            (self.at(-20, 10, 15), lambda: self.take(wish, ids, boss, staff)),
        ]  # fmt: skip
        for i, dv in enumerate(staff):
            steps.append((self.at(-20, 14 + i), self.answering(wish, dv, accept=i < 2)))
        for i, dv in enumerate([boss, *staff[:2]]):
            steps.append((self.at(-18, 9, 5 + i), self.checking(wish, dv, out=False)))
            steps.append((self.at(-18, 11, 30 + i), self.checking(wish, dv, out=True)))
        steps += [
            (self.at(-17, 9), lambda: self.confirm_all(wish)),
            (self.at(-17, 15), lambda: self.event(wish, WishEvent.RATE, resident, thanks)),
            (self.at(-15, 10), lambda: self.event(wish, WishEvent.CLOSE, coordinator,
                                                  NoteIn(note="企业团队服务，群众满意"))),
        ]  # fmt: skip
        return steps

    def take(
        self, wish: TeamWish, ids: dict[str, int], boss: DemoVolunteer, staff: list[DemoVolunteer]
    ) -> None:
        named = [
            dv.volunteer.id
            for dv in staff
            if not member_reasons(self.session, wish_id=wish.wish_id, volunteer_id=dv.volunteer.id)
        ]
        if len(named) < len(staff):
            raise RuntimeError("demo data: the enterprise's staff must fit the team's wish")
        body = AcceptAsTeamIn(team_id=ids["enterprise"], member_ids=named)
        callups.accept_as_team(self.session, wish_id=wish.wish_id, body=body,
                               actor=self.principal(boss.user.id))  # fmt: skip

    def answering(self, wish: TeamWish, dv: DemoVolunteer, *, accept: bool) -> Action:
        def step() -> None:
            callup = self.session.scalars(
                select(TeamCallup.id).where(
                    TeamCallup.wish_id == wish.wish_id, TeamCallup.volunteer_id == dv.volunteer.id
                )
            ).one()
            me = self.principal(dv.user.id)
            if accept:
                callups.accept_callup(self.session, callup_id=callup, actor=me)
            else:
                callups.decline_callup(self.session, callup_id=callup, actor=me)

        return step

    def checking(self, wish: TeamWish, dv: DemoVolunteer, *, out: bool) -> Action:
        def step() -> None:
            row = self.session.get(Wish, wish.wish_id)
            assert row is not None
            lat, lng = row.point
            summary = "打扫院子、清理竹料、翻地种菜" if out else ""
            body = AttendanceIn(lat=lat, lng=lng, summary=summary)
            attend(self.session, wish_id=wish.wish_id, actor=self.principal(dv.user.id),
                   body=body, out=out)  # fmt: skip

        return step

    def confirm_all(self, wish: TeamWish) -> None:
        station = self.principal(self.coordinators[SHANHE].id)
        records = self.session.scalars(
            select(Attendance.id).where(Attendance.wish_id == wish.wish_id).order_by(Attendance.id)
        ).all()
        for record in records:
            confirm(self.session, attendance_id=record, actor=station, body=ConfirmIn(),
                    now=clock.now())  # fmt: skip
