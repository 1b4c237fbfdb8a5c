"""The coordinators' console in a real browser, against a real server.

Debian's chromium, driven headless through its chromedriver (selenium; nothing is downloaded),
signs in as a county coordinator and goes round the loop: approves a wish in the review queue,
offers it to a candidate, sees the volunteer's acceptance (made through the API) appear, sees the
wishes list count down to each wish's next step, sends a batch plan in the background and watches
its progress bar, confirms a volunteer's hours, changes the statistics period, downloads the
statistics workbook, whose figure is read back with openpyxl, and sets then gives up the county's
ranking weights. The steps are tests of their own, in order, over one browser
and one server (module fixtures); a step whose predecessor failed is skipped, so the report says
which steps pass. A screenshot of each page goes to test-artifacts/screenshots/<run>/ (ignored
by git). The elements are found by their `data-test` attributes (API-I11: the console's contract
with this test).

Without chromium and chromedriver the module is skipped, or fails under CI=true.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2
import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clock
from app.accounts.service import create_staff_user
from app.auth.users import ensure_role
from app.config import settings_in_use
from app.db import writer
from app.dispatch.batch import background
from app.models import (
    Attendance,
    BatchApply,
    HoursEntry,
    Offer,
    RankingWeight,
    Wish,
    WishEventRecord,
)
from app.models.enums import AccountRole, OfferStatus, SessionKind, WishStatus
from tests.fixtures.builders import (
    auth,
    make_resident,
    make_tree,
    make_volunteer,
    make_wish,
    wish_body,
)
from tests.fixtures.server import Served, served

pytestmark = pytest.mark.server

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts" / "screenshots"
API = "/api/v1"
USERNAME, PASSWORD = "console_county", "Console2026go"
WAIT = 20.0  # seconds a page may take to show what a step waits for
TZ_OFFSET = timedelta(hours=8)  # the city's local time (Asia/Shanghai, no summer time)


def _missing_browser() -> str | None:
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        absent = ", ".join(missing)
        return f"the browser test needs Debian's chromium and chromedriver: {absent} absent"
    return None


def _require_browser() -> None:
    reason = _missing_browser()
    if reason is None:
        return
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{reason} (CI installs them: apt-get install chromium chromium-driver)")
    pytest.skip(reason)


def local_today() -> str:
    return (datetime.now(UTC) + TZ_OFFSET).date().isoformat()


# ---------------------------------------------------------------- the scene


@dataclass
class World:
    """What the test built, and what the steps learned."""

    live: Served
    county_id: int
    station_id: int
    volunteer_id: int
    volunteer_headers: dict[str, str]
    coordinator_headers: dict[str, str]
    review_wish: int  # submitted through the API, approved and dispatched in the browser
    other_wishes: list[int]  # also submitted today
    record_id: int  # a checked-out service record, to confirm in the browser
    shots: Path
    downloads: Path
    passed: set[str] = field(default_factory=set)
    notes: dict[str, str] = field(default_factory=dict)


def build(live: Served, shots: Path, downloads: Path) -> World:
    """A county with two townships and four stations; a county coordinator who signs in with a
    password; volunteers; residents who order wishes through the API (events and all); and an
    older wish already served, whose record waits for confirmation."""
    now = clock.now()
    with Session(writer(live.engine), expire_on_commit=False) as session, session.begin():
        tree = make_tree(session)
        station = tree.stations[0]
        coordinator = create_staff_user(
            session=session, name="县中心协调员", username=USERNAME, password=PASSWORD
        )
        ensure_role(
            session=session,
            user_id=coordinator.id,
            role=AccountRole.COORDINATOR,
            org_unit_id=tree.county.id,
        )
        volunteer_user, volunteer = make_volunteer(
            session,
            station,
            skills=("errands", "companionship"),
            preferences=("elderly_orphan_care",),
        )
        for other in tree.stations[:2]:
            make_volunteer(session, other, skills=("errands",))
        residents = [make_resident(session) for _ in range(3)]
        _, served_volunteer = make_volunteer(session, station, skills=("errands",))
        done = make_wish(
            session,
            station=station,
            requester=residents[0],
            status=WishStatus.COMPLETED,
            assignee=served_volunteer,
        )
        # Served two days ago, out of today's statistics.
        begun = now - timedelta(days=2, hours=2)
        done.wanted_start_at, done.wanted_end_at = begun, begun + timedelta(hours=2)
        done.submitted_at = done.created_at = now - timedelta(days=3)
        done.completed_at = begun + timedelta(hours=2)
        record = Attendance(
            wish_id=done.id,
            volunteer_id=served_volunteer.id,
            unit_id=station.id,
            is_lead=True,
            status="checked_out",
            checked_in_at=begun,
            checked_out_at=begun + timedelta(hours=2),
            check_in_method="gps",
            check_out_method="gps",
            summary="陪老人买菜",
        )
        session.add(record)
        session.flush()
        ids = (tree.county.id, station.id, volunteer.id, record.id)
        lat, lng = station.lat, station.lng
    assert lat is not None and lng is not None
    settings = live.settings
    wishes = []
    with httpx2.Client(base_url=live.base_url, timeout=30) as client:
        for i, resident in enumerate(residents):
            r = client.post(
                f"{API}/wishes",
                json=wish_body(lat, lng, title=f"帮独居老人买菜（第 {i + 1} 单）"),
                headers=auth(resident, settings, kind=SessionKind.CONSUMER),
            )
            assert r.status_code == 201, r.text
            wishes.append(int(r.json()["id"]))
    county_id, station_id, volunteer_id, record_id = ids
    return World(
        live=live,
        county_id=county_id,
        station_id=station_id,
        volunteer_id=volunteer_id,
        volunteer_headers=auth(volunteer_user, settings, kind=SessionKind.CONSUMER),
        coordinator_headers=auth(coordinator, settings),
        review_wish=wishes[0],
        other_wishes=wishes[1:],
        record_id=record_id,
        shots=shots,
        downloads=downloads,
    )


@pytest.fixture(scope="module")
def world(engine_name: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    _require_browser()
    tmp = tmp_path_factory.mktemp("console")
    run = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + f"-{engine_name}"
    shots = SHOTS / run
    shots.mkdir(parents=True, exist_ok=True)
    downloads = tmp / "downloads"
    downloads.mkdir()
    # A plan of more than one line is sent in the background (the batch step watches it).
    with served(engine_name, tmp, settings={"BATCH_BACKGROUND_OFFERS": "1"}) as live:
        built = build(live, shots, downloads)
        try:
            yield built
        finally:
            # Which steps passed, and how, next to the screenshots.
            lines = [f"{'pass' if s in built.passed else 'not passed'}: {s}" for s in STEPS]
            lines += [f"note ({key}): {note}" for key, note in sorted(built.notes.items())]
            (shots / "steps.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")


# ---------------------------------------------------------------- the browser


class Console:
    """The browser on the console, with waits by `data-test` names."""

    def __init__(self, driver: Any, world: World) -> None:
        self.driver = driver
        self.world = world

    # finding

    def css(self, name: str, **attrs: object) -> str:
        selector = f'[data-test="{name}"]'
        for key, value in attrs.items():
            selector += f'[data-{key.replace("_", "-")}="{value}"]'
        return selector

    def wait_for(self, check: Callable[[], Any], what: str, timeout: float = WAIT) -> Any:
        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            try:
                found = check()
                if found:
                    return found
            except Exception as exc:  # stale elements while the page redraws
                last = exc
            time.sleep(0.2)
        toasts = [t.text for t in self.all("toast")]
        raise AssertionError(
            f"waited {timeout:g} s for {what}; at {self.driver.current_url};"
            f" toasts {toasts}; last error {last!r}"
        )

    def all(self, name: str, within: Any = None, **attrs: object) -> list[Any]:
        from selenium.webdriver.common.by import By

        return list((within or self.driver).find_elements(By.CSS_SELECTOR, self.css(name, **attrs)))

    def one(self, name: str, within: Any = None, timeout: float = WAIT, **attrs: object) -> Any:
        def visible() -> Any:
            shown = [e for e in self.all(name, within, **attrs) if e.is_displayed()]
            return shown[0] if shown else None

        return self.wait_for(visible, f"[data-test={name}] {attrs or ''}", timeout)

    def maybe_css(self, selector: str, timeout: float) -> Any | None:
        """The first visible element matching a CSS selector within `timeout`, or None."""
        from selenium.webdriver.common.by import By

        def visible() -> Any:
            shown = [
                e for e in self.driver.find_elements(By.CSS_SELECTOR, selector) if e.is_displayed()
            ]
            return shown[0] if shown else None

        try:
            return self.wait_for(visible, selector, timeout)
        except AssertionError:
            return None

    def maybe(self, name: str, timeout: float, **attrs: object) -> Any | None:
        try:
            return self.one(name, timeout=timeout, **attrs)
        except AssertionError:
            return None

    # acting

    def click(self, element: Any) -> None:
        self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", element)
        element.click()

    def go(self, nav: str) -> None:
        self.click(self.one(nav))

    def set_value(self, element: Any, value: str) -> None:
        """Set an input's value as typing would (date inputs take YYYY-MM-DD this way in any
        locale)."""
        self.driver.execute_script(
            "const e = arguments[0]; e.value = arguments[1];"
            " e.dispatchEvent(new Event('input', {bubbles: true}));"
            " e.dispatchEvent(new Event('change', {bubbles: true}));",
            element,
            value,
        )

    def confirm_dialog(self, timeout: float = 2.0) -> None:
        """Press OK on a dialog if the action opened one (with a reason if it asks for one)."""
        ok = self.maybe("dialog-ok", timeout)
        if ok is None:
            return
        reasons = [e for e in self.all("dialog-reason") if e.is_displayed()]
        if reasons:
            reasons[0].send_keys("浏览器测试")
        self.click(ok)

    def shot(self, name: str) -> Path:
        path = self.world.shots / f"{name}.png"
        self.driver.save_screenshot(str(path))
        return path

    def settle(self) -> None:
        """Wait until no loading indicator is shown."""
        from selenium.webdriver.common.by import By

        self.wait_for(
            lambda: (
                not [
                    e
                    for e in self.driver.find_elements(
                        By.CSS_SELECTOR, ".loading, [aria-busy=true]"
                    )
                    if e.is_displayed()
                ]
            ),
            "the page to finish loading",
        )


@pytest.fixture(scope="module")
def console(world: World) -> Iterator[Console]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new",
        "--no-sandbox",  # the tests run as root
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1366,900",
        "--lang=zh-CN",
    ):
        options.add_argument(argument)
    options.add_experimental_option(
        "prefs",
        {
            "download.default_directory": str(world.downloads),
            "download.prompt_for_download": False,
            "safebrowsing.enabled": False,
        },
    )
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    try:
        driver.execute_cdp_cmd(
            "Browser.setDownloadBehavior",
            {"behavior": "allow", "downloadPath": str(world.downloads)},
        )
        driver.set_page_load_timeout(60)
        yield Console(driver, world)
    finally:
        driver.quit()


STEPS = (
    "sign_in",
    "approve_in_review_queue",
    "dispatch_offer",
    "acceptance_appears",
    "wishes_list_counts_down",
    "batch_apply_progress",
    "confirm_hours",
    "change_statistics_period",
    "download_excel",
    "ranking_weights_reset",
    "screenshot_each_page",
)
# The steps each step builds on: it is skipped unless they passed.
NEEDS = {
    "approve_in_review_queue": ("sign_in",),
    "dispatch_offer": ("approve_in_review_queue",),
    "acceptance_appears": ("dispatch_offer",),
    "wishes_list_counts_down": ("acceptance_appears",),
    "batch_apply_progress": ("sign_in",),
    "confirm_hours": ("sign_in",),
    "change_statistics_period": ("sign_in",),
    "download_excel": ("change_statistics_period",),
    "ranking_weights_reset": ("change_statistics_period",),
    "screenshot_each_page": ("sign_in",),
}


@pytest.fixture
def step(world: World, console: Console, request: pytest.FixtureRequest) -> Iterator[str]:
    """The step's name. Skips the step when one it builds on did not pass; a step passes by
    adding its name to `world.passed` at its end, and one that did not leaves a screenshot of
    the page as it was."""
    name = request.node.name.removeprefix("test_")
    for need in NEEDS.get(name, ()):
        if need not in world.passed:
            pytest.skip(f"step {need!r} did not pass")
    yield name
    if name not in world.passed:
        console.shot(f"failed-{name}")


def _wish(world: World, wish_id: int) -> tuple[str, int]:
    with Session(world.live.engine) as session:
        wish = session.get(Wish, wish_id)
        assert wish is not None
        return wish.status, wish.version


# ---------------------------------------------------------------- the steps


def test_sign_in(world: World, console: Console, step: str) -> None:
    console.driver.get(world.live.base_url + "/console")
    username = console.one("signin-username")
    console.shot("01-sign-in")
    username.send_keys(USERNAME)
    console.one("signin-password").send_keys(PASSWORD)
    console.click(console.one("signin-submit"))
    console.one("nav-review")  # signed in: the navigation is shown
    console.wait_for(
        lambda: USERNAME not in console.driver.page_source or console.all("nav-me"),
        "the signed-in frame",
    )
    world.passed.add(step)


def test_approve_in_review_queue(world: World, console: Console, step: str) -> None:
    console.go("nav-review")
    item = console.one("review-item", wish_id=world.review_wish)
    for other in world.other_wishes:
        console.one("review-item", wish_id=other)
    console.shot("02-review")
    assert _wish(world, world.review_wish)[0] == WishStatus.SUBMITTED
    console.click(console.one("approve", within=item))
    console.confirm_dialog()
    console.wait_for(
        lambda: not console.all("review-item", wish_id=world.review_wish),
        "the approved wish to leave the queue",
    )
    console.wait_for(
        lambda: _wish(world, world.review_wish)[0] == WishStatus.APPROVED, "the wish approved"
    )
    with Session(world.live.engine) as session:
        approve = session.scalars(
            select(WishEventRecord).where(
                WishEventRecord.wish_id == world.review_wish, WishEventRecord.event == "approve"
            )
        ).one()
        assert approve.actor_role == "coordinator"
    world.passed.add(step)


def _open_dispatch(console: Console, wish_id: int) -> None:
    """The dispatch page of the wish: from the dispatch list if it lists it, else by address."""
    console.go("nav-dispatch")
    console.settle()
    link = console.maybe_css(f'[data-wish-id="{wish_id}"]', 5)
    if link is not None:
        console.click(link)
    else:
        console.world.notes["dispatch"] = "opened by address #/dispatch/<id>"
        console.driver.get(f"{console.world.live.base_url}/console#/dispatch/{wish_id}")


def test_dispatch_offer(world: World, console: Console, step: str) -> None:
    _open_dispatch(console, world.review_wish)
    row = console.one("candidate-row", volunteer_id=world.volunteer_id)
    console.shot("03-dispatch")
    inside = [e for e in console.all("send-offer", within=row) if e.is_displayed()]
    if inside:
        console.click(inside[0])
    else:
        boxes = row.find_elements("css selector", "input[type=checkbox]")
        console.click(boxes[0] if boxes else row)
        console.click(console.one("send-offer"))
    console.confirm_dialog()

    def offered() -> bool:
        with Session(world.live.engine) as session:
            return (
                session.scalar(
                    select(Offer.id).where(
                        Offer.wish_id == world.review_wish,
                        Offer.volunteer_id == world.volunteer_id,
                        Offer.status == OfferStatus.PENDING,
                    )
                )
                is not None
            )

    console.wait_for(offered, "a pending offer to the volunteer")
    assert _wish(world, world.review_wish)[0] == WishStatus.DISPATCHING
    console.one("status-badge", status="dispatching")
    world.passed.add(step)


def test_acceptance_appears(world: World, console: Console, step: str) -> None:
    """The volunteer accepts in the mini-program (the API); the console shows it."""
    r = httpx2.post(
        f"{world.live.base_url}{API}/wishes/{world.review_wish}/accept",
        headers=world.volunteer_headers,
        timeout=30,
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == WishStatus.ACCEPTED
    # The dispatch page on screen follows the wish: the accept appears without a reload.
    console.maybe("status-badge", 20, status="accepted") or pytest.fail(
        "the volunteer's accept did not appear on the page on screen"
    )
    world.notes["acceptance"] = "appeared on the page without reloading"
    if not console.all("timeline-item"):
        console.driver.get(f"{world.live.base_url}/console#/wishes/{world.review_wish}")
    console.wait_for(
        lambda: any("接单" in e.text for e in console.all("timeline-item")),
        "an accept event (接单) in the timeline",
    )
    console.shot("04-wish-accepted")
    world.passed.add(step)


def test_wishes_list_counts_down(world: World, console: Console, step: str) -> None:
    """The wishes list shows each wish's countdown to its next automatic step, as its own page
    does: the accepted wish's step is the one the API names for it."""
    r = httpx2.get(
        f"{world.live.base_url}{API}/wishes/{world.review_wish}",
        headers=world.coordinator_headers,
        timeout=30,
    )
    assert r.status_code == 200, r.text
    expected = r.json()["next_step"]
    console.go("nav-wishes")
    row = console.one("wish-row", wish_id=world.review_wish)
    clock = console.one("countdown", within=row)
    if expected is None:
        assert "none" in (clock.get_attribute("class") or "")
    else:
        assert clock.get_attribute("data-action") == expected["action"]
        assert expected["label"] in clock.text
        console.wait_for(
            lambda: "还有" in clock.text or "即将自动执行" in clock.text, "the time left"
        )
    # A wish waiting for review counts down to its escalation.
    waiting = console.one("wish-row", wish_id=world.other_wishes[0])
    assert console.one("countdown", within=waiting).get_attribute("data-action") == "escalate"
    console.shot("04b-wishes-countdown")
    world.passed.add(step)


def _send_a_line(world: World) -> None:
    """One step of the background plan's timer, run here as a worker would run it (the server
    runs no timers), one line a step; the wishes' own ladder timers are left alone."""
    settings = world.live.settings.model_copy(update={"batch_apply_chunk": 1})
    with (
        settings_in_use(settings),
        Session(writer(world.live.engine)) as session,
        session.begin(),
    ):
        record = session.scalars(select(BatchApply).order_by(BatchApply.id.desc())).first()
        assert record is not None
        background.run(session, record.id, clock.now())


def test_batch_apply_progress(world: World, console: Console, step: str) -> None:
    """批量派单 of the other two wishes: a plan over the background threshold shows a progress
    bar that follows the timer's steps, then each line's result."""
    for wish_id in world.other_wishes:
        r = httpx2.post(
            f"{world.live.base_url}{API}/wishes/{wish_id}/approve",
            json={"note": ""},
            headers=world.coordinator_headers,
            timeout=30,
        )
        assert r.status_code == 200, r.text
    console.go("nav-batch")
    console.settle()
    console.click(console.one("plan-compute"))
    wanted = {str(w) for w in world.other_wishes}
    console.wait_for(
        lambda: {r.get_attribute("data-wish-id") for r in console.all("plan-row")} == wanted,
        "a plan with a line for each approved wish",
    )
    console.click(console.one("plan-apply"))
    console.confirm_dialog()
    bar = console.one("batch-progress")
    assert (bar.get_attribute("max"), bar.get_attribute("value")) == ("2", "0")
    console.shot("04c-batch-progress")
    _send_a_line(world)
    console.wait_for(
        lambda: [b.get_attribute("value") for b in console.all("batch-progress")] == ["1"],
        "the progress bar at one line of two",
    )
    # The address names the plan being sent: a reload follows it again.
    assert "#/batch?apply=" in console.driver.current_url
    console.driver.refresh()
    bar = console.one("batch-progress")
    assert (bar.get_attribute("max"), bar.get_attribute("value")) == ("2", "1")
    _send_a_line(world)
    rows = console.wait_for(
        lambda: console.all("apply-row") if len(console.all("apply-row")) == 2 else None,
        "each line's result",
    )
    assert {r.get_attribute("data-ok") for r in rows} == {"true"}
    assert not console.all("batch-progress")
    for wish_id in world.other_wishes:
        assert _wish(world, wish_id)[0] == WishStatus.DISPATCHING
    console.shot("04d-batch-done")
    world.passed.add(step)


def test_confirm_hours(world: World, console: Console, step: str) -> None:
    console.go("nav-hours")
    row = console.one("hours-row", record_id=world.record_id)
    console.shot("05-hours")
    console.click(console.one("confirm-hours", within=row))
    console.confirm_dialog()

    def credited() -> HoursEntry | None:
        with Session(world.live.engine) as session:
            return session.scalar(
                select(HoursEntry).where(HoursEntry.attendance_id == world.record_id)
            )

    entry = console.wait_for(credited, "the hours entry of the confirmed record")
    assert entry.minutes == 120
    console.wait_for(
        lambda: (
            not console.all(
                "confirm-hours", within=console.one("hours-row", record_id=world.record_id)
            )
        ),
        "the row to show the record confirmed",
    )
    world.passed.add(step)


def _figure(console: Console, key: str) -> tuple[str, Any]:
    element = console.one("stats-figure", key=key, group="")
    return element.text, element


def _stats_api(world: World, first: str, last: str) -> dict[str, Any]:
    r = httpx2.get(
        f"{world.live.base_url}{API}/org-units/{world.county_id}/stats",
        params={"from": first, "to": last},
        headers=world.coordinator_headers,
        timeout=30,
    )
    assert r.status_code == 200, r.text
    return dict(r.json())


def _ungrouped(stats: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["key"]: f for s in stats["sections"] for f in s["figures"] if f.get("group") is None}


def _apply_period(console: Console, first: str, last: str) -> None:
    console.set_value(console.one("stats-from"), first)
    console.set_value(console.one("stats-to"), last)
    console.click(console.one("stats-apply"))
    console.settle()


def _number(text: str) -> float | None:
    found = re.search(r"-?\d+(?:\.\d+)?", text.replace(",", ""))
    return float(found.group()) if found else None


FIGURE = "intake.wishes"  # the wishes taken in over the period


def test_change_statistics_period(world: World, console: Console, step: str) -> None:
    today = local_today()
    console.go("nav-stats")
    console.settle()
    _apply_period(console, today, today)
    figures = _ungrouped(_stats_api(world, today, today))
    assert FIGURE in figures, f"no {FIGURE} among {sorted(figures)}"
    expected = figures[FIGURE]["value"]
    # Three wishes were ordered today through the API (the served one three days ago).
    assert expected == 3
    console.wait_for(lambda: _number(_figure(console, FIGURE)[0]) == expected, f"{FIGURE} = 3")
    console.shot("06-stats-today")
    _apply_period(console, "2020-01-01", "2020-01-31")
    console.wait_for(
        lambda: _number(_figure(console, FIGURE)[0]) in (0, None), f"{FIGURE} of January 2020"
    )
    assert _ungrouped(_stats_api(world, "2020-01-01", "2020-01-31"))[FIGURE]["value"] in (0, None)
    _apply_period(console, today, today)
    console.wait_for(lambda: _number(_figure(console, FIGURE)[0]) == expected, f"{FIGURE} again")
    world.passed.add(step)


def test_download_excel(world: World, console: Console, step: str) -> None:
    today = local_today()
    before = set(world.downloads.iterdir())
    console.click(console.one("stats-download-xlsx"))

    def saved() -> Path | None:
        new = [
            p
            for p in world.downloads.iterdir()
            if p not in before and p.suffix == ".xlsx" and p.stat().st_size > 0
        ]
        return new[0] if new else None

    path = console.wait_for(saved, "the workbook in the download folder", timeout=60)
    # Once saved, the progress beside the button is gone and the button works again.
    console.wait_for(
        lambda: (
            not console.all("export-progress") and console.one("stats-download-xlsx").is_enabled()
        ),
        "the export's progress to end",
    )
    assert not console.all("export-error")
    shutil.copy(path, world.shots / "stats.xlsx")
    figure = _ungrouped(_stats_api(world, today, today))[FIGURE]
    workbook = load_workbook(path, read_only=True)
    found = []
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows(values_only=True):
            texts = [str(c) for c in row if c is not None]
            if figure["label"] in texts or FIGURE in texts:
                found += [c for c in row if isinstance(c, int | float) and not isinstance(c, bool)]
    assert found, f"no row for {figure['label']} ({FIGURE}) in {workbook.sheetnames}"
    assert found[0] == figure["value"] == 3
    world.passed.add(step)


def _own_weights(world: World) -> int:
    with Session(world.live.engine) as session:
        return len(
            session.scalars(
                select(RankingWeight).where(RankingWeight.unit_id == world.county_id)
            ).all()
        )


def _weights_shown(console: Console, inherited: str) -> None:
    """Wait for the weights panel (redrawn after each change, closed) to say where the weights
    come from; opens it as a click on its summary would."""

    def shown() -> bool:
        for panel in console.all("weights-panel"):
            console.driver.execute_script("arguments[0].open = true;", panel)
        return any(e.is_displayed() for e in console.all("weights-source", inherited=inherited))

    console.wait_for(shown, f"the weights panel with inherited={inherited}")


def test_ranking_weights_reset(world: World, console: Console, step: str) -> None:
    """The county sets its own ranking weights, then gives them up (恢复上级设置): the weights
    of the unit above (here the defaults) apply again."""
    console.go("nav-stats")
    console.settle()
    _weights_shown(console, "true")
    assert not console.all("weights-reset")  # nothing of its own to give up
    console.set_value(console.one("weight-input", indicator="hours"), "60")
    console.click(console.one("weights-save"))
    console.confirm_dialog()
    console.wait_for(lambda: _own_weights(world) > 0, "the county's own weights saved")
    _weights_shown(console, "false")
    console.click(console.one("weights-reset"))
    console.confirm_dialog()
    console.wait_for(lambda: _own_weights(world) == 0, "the county's own weights removed")
    _weights_shown(console, "true")
    assert not console.all("weights-reset")
    console.shot("07-weights-inherited")
    world.passed.add(step)


def test_screenshot_each_page(world: World, console: Console, step: str) -> None:
    pages = ("review", "wishes", "dispatch", "hours", "volunteers", "stats", "import", "me")
    missing = []
    for i, page in enumerate(pages, start=10):
        nav = f"nav-{page}"
        link = console.maybe(nav, 5)
        if link is None:
            missing.append(nav)
            continue
        console.click(link)
        console.settle()
        console.wait_for(
            lambda nav=nav: "active" in (console.one(nav).get_attribute("class") or ""),
            f"{nav} to be the current page",
        )
        assert console.shot(f"{i}-{page}").stat().st_size > 0
    assert not missing, f"no link to {missing} in the navigation"
    world.passed.add(step)
