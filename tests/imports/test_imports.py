"""Bulk import of volunteers and staff from the coordinators' sheets: the templates, a good file
written whole, a bad row failing the whole file with nothing written, the limits on the file,
and who may import where."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.config import Settings
from app.imports.columns import COLUMNS, MAX_BLANK_ROWS
from app.imports.schemas import ImportKind
from app.jobs.scheduler import Scheduler
from app.main import API_PREFIX
from app.models import BulkImport, HomeMove, RoleGrant, User, Volunteer
from app.models.enums import AccountRole
from tests.conftest import BoundDatabase
from tests.fixtures.builders import Tree, auth, make_admin, make_coordinator, make_tree, make_user
from tests.fixtures.state import changed_tables, everything
from tests.imports.sheets import with_cell_at, workbook

API = API_PREFIX
V, S = ImportKind.VOLUNTEERS, ImportKind.STAFF


@dataclass
class Scene:
    client: TestClient
    session: Session
    settings: Settings
    tree: Tree
    coordinator: User  # of townships[0]: stations 0 and 1 are inside, 2 and 3 outside

    def headers(self, user: User | None = None, **extra: str) -> dict[str, str]:
        return {**auth(user or self.coordinator, self.settings), **extra}

    def upload(
        self,
        kind: ImportKind,
        data: bytes,
        *,
        unit_id: int | None = None,
        user: User | None = None,
        **headers: str,
    ) -> Any:
        unit = unit_id or self.tree.townships[0].id
        return self.client.post(
            f"{API}/org-units/{unit}/imports/{kind.value}",
            files={"file": ("名单.xlsx", data, "application/octet-stream")},
            headers=self.headers(user, **headers),
        )

    def volunteer_row(self, n: int, station: int = 0, **extra: Any) -> dict[str, Any]:
        return {
            "name": f"志愿者{n}",
            "phone": f"1380000{n:04d}",
            "station_code": self.tree.stations[station].code,
            "skills": "代购代办、computer",
            "availability": "周六 08:30-11:30；周日 14:00-17:00",
            "birth_date": "1990-05-01",
            **extra,
        }

    def count(self, model: Any) -> int:
        return int(self.session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.fixture
def scene(client: TestClient, session: Session, settings: Settings) -> Scene:
    tree = make_tree(session)
    return Scene(client, session, settings, tree, make_coordinator(session, tree.townships[0]))


def _sheet(data: bytes, index: int = 0) -> Any:
    return load_workbook(io.BytesIO(data)).worksheets[index]


def _notes_cells(data: bytes) -> set[str]:
    notes = load_workbook(io.BytesIO(data))["说明"]
    return {str(v) for row in notes.iter_rows(values_only=True) for v in row if v is not None}


# ---------------------------------------------------------------- templates


@pytest.mark.parametrize("kind", [V, S])
def test_template_opens_with_the_headers_and_the_allowed_values(
    scene: Scene, kind: ImportKind
) -> None:
    r = scene.client.get(f"{API}/imports/templates/{kind.value}", headers=scene.headers())
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = _sheet(r.content)
    headers = [cell.value for cell in next(sheet.iter_rows(max_row=1))]
    assert headers == [c.header for c in COLUMNS[kind]]
    assert sheet.freeze_panes == "A2"
    notes = _notes_cells(r.content)
    inside = {scene.tree.stations[0].code, scene.tree.stations[1].code}
    outside = {scene.tree.stations[2].code, scene.tree.stations[3].code, scene.tree.county.code}
    assert inside <= notes and not outside & notes
    assert {c.example for c in COLUMNS[kind]} <= notes  # the example row
    if kind == V:
        assert {"errands", "代购代办"} <= notes
        assert scene.tree.townships[0].code not in notes  # volunteers belong to stations
    else:
        assert scene.tree.townships[0].code in notes
        assert "管理员" not in {
            v
            for row in sheet.data_validations.dataValidation
            for v in row.formula1.strip('"').split(",")
        }


def test_admin_template_offers_the_admin_role(scene: Scene) -> None:
    admin = make_admin(scene.session)
    r = scene.client.get(f"{API}/imports/templates/staff", headers=scene.headers(admin))
    [rule] = _sheet(r.content).data_validations.dataValidation
    assert rule.formula1 == '"协调员,网格员,管理员"'


# ---------------------------------------------------------------- a good file


def test_good_volunteer_file_imports_every_row(scene: Scene) -> None:
    rows = [
        scene.volunteer_row(1),
        scene.volunteer_row(2, 1, id_number="11010519491231002X"),
        scene.volunteer_row(3, 1, skills=None, availability=None, lat=30.6, lng=119.9),
    ]
    r = scene.upload(V, workbook(V, rows))
    assert r.status_code == 202, r.text
    body = r.json()
    assert (body["status"], body["total"], body["done"], body["errors"]) == ("done", 3, 3, [])
    # They appear in the coordinator's list, at their stations, with their skills.
    listed = scene.client.get(f"{API}/volunteers", params={"limit": 50}, headers=scene.headers())
    by_name = {item["name"]: item for item in listed.json()["items"]}
    assert set(by_name) == {"志愿者1", "志愿者2", "志愿者3"}
    assert by_name["志愿者2"]["home_station"]["id"] == scene.tree.stations[1].id
    assert by_name["志愿者1"]["skill_codes"] == ["computer", "errands"]
    assert by_name["志愿者3"]["skill_codes"] == []
    assert by_name["志愿者1"]["phone"] != "13800000001"  # masked
    # A volunteer signs in with their phone and sees their own profile.
    login = scene.client.post(f"{API}/auth/dev-login", json={"phone": "13800000002"})
    assert login.status_code == 200, login.text
    me = scene.client.get(
        f"{API}/me/volunteer", headers={"Authorization": f"Bearer {login.json()['access_token']}"}
    )
    assert me.status_code == 200, me.text
    assert me.json()["id_number"] == "11010519491231002X"
    assert me.json()["weekly_availability"] == [
        {"weekday": 5, "start": "08:30", "end": "11:30"},
        {"weekday": 6, "start": "14:00", "end": "17:00"},
    ]
    # The first home was set by the coordinator, and counted like a registration.
    movers = scene.session.scalars(select(HomeMove.actor_id)).all()
    assert movers == [scene.coordinator.id] * 3


def test_good_staff_file_creates_accounts_that_sign_in(scene: Scene) -> None:
    rows = [
        {
            "name": "沈丽华",
            "username": "shen.lihua",
            "phone": "13957208866",
            "role": "协调员",
            "unit_code": scene.tree.stations[0].code,
            "password": "Deqing-2026-mgs",
        },
        {
            "name": "陆建国",
            "username": "lu.jianguo",
            "role": "网格员",
            "unit_code": scene.tree.stations[1].code,
            "password": "Grid-worker-01",
        },
    ]
    r = scene.upload(S, workbook(S, rows))
    assert r.status_code == 202, r.text
    assert (r.json()["status"], r.json()["done"]) == ("done", 2)
    grants = scene.session.execute(
        select(User.username, RoleGrant.role, RoleGrant.org_unit_id)
        .join(RoleGrant, RoleGrant.user_id == User.id)
        .where(User.username.in_(["shen.lihua", "lu.jianguo"]))
        .order_by(User.username)
    ).all()
    assert [tuple(g) for g in grants] == [
        ("lu.jianguo", AccountRole.GRID_WORKER, scene.tree.stations[1].id),
        ("shen.lihua", AccountRole.COORDINATOR, scene.tree.stations[0].id),
    ]
    login = scene.client.post(
        f"{API}/auth/login", json={"username": "shen.lihua", "password": "Deqing-2026-mgs"}
    )
    assert login.status_code == 200, login.text
    assert login.json()["password_change_required"] is True


# ---------------------------------------------------------------- nothing half-imported


def _failed(scene: Scene, kind: ImportKind, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Upload `rows`; the import fails, only its own record is written, and the errors (as
    the poll shows them too) come back."""
    before = everything(scene.session)
    r = scene.upload(kind, workbook(kind, rows))
    assert r.status_code == 202, r.text
    body = r.json()
    assert (body["status"], body["done"], body["total"]) == ("failed", 0, len(rows))
    assert changed_tables(before, everything(scene.session)) == ["imports"]
    polled = scene.client.get(f"{API}/imports/{body['id']}", headers=scene.headers())
    assert polled.json() == body
    assert body["error_count"] == len(body["errors"])
    return [{k: e[k] for k in ("row", "column", "code")} for e in body["errors"]]


def test_one_bad_row_fails_the_whole_file(scene: Scene) -> None:
    rows = [scene.volunteer_row(1), scene.volunteer_row(2, phone="1234"), scene.volunteer_row(3)]
    assert _failed(scene, V, rows) == [{"row": 3, "column": "手机号", "code": "INVALID_PHONE"}]


def test_each_rule_names_its_row_and_column(scene: Scene) -> None:
    rows = [
        scene.volunteer_row(1, name=None),
        scene.volunteer_row(2, skills="开飞机"),
        scene.volunteer_row(3, availability="周末全天"),
        scene.volunteer_row(4, id_number="330521199206180013"),
        scene.volunteer_row(5, station_code="999999999999"),
        scene.volunteer_row(6, station_code=scene.tree.townships[0].code),
        scene.volunteer_row(7, lat=30.6),
        scene.volunteer_row(8, service_radius_m=10),
    ]
    assert _failed(scene, V, rows) == [
        {"row": 2, "column": "姓名", "code": "REQUIRED"},
        {"row": 3, "column": "技能", "code": "UNKNOWN_SKILL"},
        {"row": 4, "column": "服务时段", "code": "INVALID_AVAILABILITY"},
        {"row": 5, "column": "身份证号", "code": "INVALID_ID_NUMBER"},
        {"row": 6, "column": "所属站点代码", "code": "UNKNOWN_UNIT"},
        {"row": 7, "column": "所属站点代码", "code": "INVALID_HOME_STATION"},
        {"row": 8, "column": "常住地纬度", "code": "INCOMPLETE_LOCATION"},
        {"row": 9, "column": "服务半径（米）", "code": "INVALID_VALUE"},
    ]


def test_duplicate_phones_in_the_file_and_against_accounts(scene: Scene) -> None:
    existing = make_user(scene.session, phone="13800000005")
    assert existing.id
    rows = [
        scene.volunteer_row(1),
        scene.volunteer_row(2),
        scene.volunteer_row(1, name="重名"),
        scene.volunteer_row(5),
    ]
    rows[1]["phone"] = "138 0000 0002"  # spaces are read through
    assert _failed(scene, V, rows) == [
        {"row": 4, "column": "手机号", "code": "DUPLICATE_PHONE"},
        {"row": 5, "column": "手机号", "code": "PHONE_TAKEN"},
    ]


def test_errors_never_carry_phones_or_id_numbers(scene: Scene) -> None:
    rows = [scene.volunteer_row(1, id_number="330521199206180013"), scene.volunteer_row(1)]
    r = scene.upload(V, workbook(V, rows))
    stored = scene.session.scalar(select(BulkImport.errors).where(BulkImport.id == r.json()["id"]))
    shown = json.dumps([r.json(), stored], ensure_ascii=False)
    assert r.json()["error_count"] == 2
    for secret in ("13800000001", "0000001", "330521199206180013", "180013"):
        assert secret not in shown


def test_a_station_outside_the_importing_unit(scene: Scene) -> None:
    rows = [scene.volunteer_row(1), scene.volunteer_row(2, station=2)]
    assert _failed(scene, V, rows) == [
        {"row": 3, "column": "所属站点代码", "code": "UNIT_OUTSIDE_SCOPE"}
    ]
    # Importing into one station: its sibling is outside too.
    r = scene.upload(
        V, workbook(V, [scene.volunteer_row(3, station=1)]), unit_id=scene.tree.stations[0].id
    )
    assert [e["code"] for e in r.json()["errors"]] == ["UNIT_OUTSIDE_SCOPE"]


def test_staff_roles_the_coordinator_may_not_grant(scene: Scene) -> None:
    own_phone = scene.coordinator.phone
    base = {"password": "long-enough-1", "unit_code": scene.tree.stations[0].code}
    rows = [
        {**base, "name": "甲", "username": "jia.a", "role": "管理员"},
        {
            **base,
            "name": "乙",
            "username": "yi.b",
            "role": "网格员",
            "unit_code": scene.tree.townships[0].code,
        },
        {**base, "name": "丙", "username": "bing.c", "role": "志愿者"},
        {**base, "name": "丁", "username": "ding.d", "role": "协调员", "phone": own_phone},
        {
            **base,
            "name": "戊",
            "username": "wu.e",
            "role": "协调员",
            "unit_code": scene.tree.county.code,
        },
        {**base, "name": "己", "username": "ji.f", "role": "协调员", "password": "short"},
        {**base, "name": "庚", "username": "geng.g", "role": "协调员"},
    ]
    assert _failed(scene, S, rows) == [
        {"row": 2, "column": "角色", "code": "ROLE_NOT_GRANTABLE"},
        {"row": 3, "column": "单位代码", "code": "GRID_WORKER_NOT_AT_STATION"},
        {"row": 4, "column": "角色", "code": "UNKNOWN_ROLE"},
        {"row": 5, "column": None, "code": "SELF_APPROVAL"},
        {"row": 6, "column": "单位代码", "code": "UNIT_OUTSIDE_SCOPE"},
        {"row": 7, "column": "初始密码", "code": "INVALID_PASSWORD"},
    ]


def test_staff_usernames_twice_or_taken(scene: Scene) -> None:
    taken = make_user(scene.session)
    taken.username = "taken.name"
    scene.session.flush()
    base = {"password": "long-enough-1", "unit_code": scene.tree.stations[0].code, "role": "协调员"}
    rows = [
        {**base, "name": "甲", "username": "same"},
        {**base, "name": "乙", "username": "same"},
        {**base, "name": "丙", "username": "taken.name"},
    ]
    assert _failed(scene, S, rows) == [
        {"row": 3, "column": "用户名", "code": "DUPLICATE_USERNAME"},
        {"row": 4, "column": "用户名", "code": "USERNAME_TAKEN"},
    ]


def test_admin_imports_an_admin(scene: Scene) -> None:
    admin = make_admin(scene.session)
    row = {
        "name": "新管理员",
        "username": "new.admin",
        "role": "admin",
        "password": "long-enough-1",
        "unit_code": scene.tree.city.code,
    }
    r = scene.upload(S, workbook(S, [row]), unit_id=scene.tree.city.id, user=admin)
    assert r.json()["status"] == "done", r.text
    grant = scene.session.execute(
        select(RoleGrant.role, RoleGrant.org_unit_id)
        .join(User, User.id == RoleGrant.user_id)
        .where(User.username == "new.admin")
    ).one()
    assert tuple(grant) == (AccountRole.ADMIN, None)


# ---------------------------------------------------------------- the file itself


def test_oversized_file_is_refused(scene: Scene) -> None:
    limit = scene.settings.import_max_bytes
    before = everything(scene.session)
    r = scene.upload(V, b"x" * (limit + 1))
    assert (r.status_code, r.json()["error"]["code"]) == (413, "IMPORT_FILE_TOO_LARGE")
    r = scene.upload(V, b"x" * (limit + 100_000))  # over the body cap of the route itself
    assert (r.status_code, r.json()["error"]["code"]) == (413, "PAYLOAD_TOO_LARGE")
    assert changed_tables(before, everything(scene.session)) == []


def test_the_body_cap_of_other_routes_is_unchanged(scene: Scene) -> None:
    too_big = b"{" + b" " * scene.settings.max_request_bytes + b"}"
    r = scene.client.post(f"{API}/wishes", content=too_big, headers=scene.headers())
    assert r.status_code == 413


def _zip(name: str, content: bytes) -> Callable[[], bytes]:
    """A zip with one part (built when the test runs: a zip bomb is 300 MB unpacked)."""

    def build() -> bytes:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(name, content)
        return out.getvalue()

    return build


def _bytes(data: bytes) -> Callable[[], bytes]:
    return lambda: data


@pytest.mark.parametrize(
    ("build", "status", "code"),
    [
        (_bytes(b"name,phone\n"), 400, "IMPORT_NOT_XLSX"),
        (_bytes("姓名,手机号\n张三,13800000001\n".encode()), 400, "IMPORT_NOT_XLSX"),
        (_bytes(b"PK\x03\x04 not really a zip"), 400, "IMPORT_NOT_XLSX"),
        (_zip("hello.txt", "你好".encode()), 400, "IMPORT_NOT_XLSX"),
        (lambda: workbook(V, [{"name": "张"}], headers=["名字", "电话"]), 400, "IMPORT_BAD_HEADER"),
        (lambda: workbook(V, []), 400, "IMPORT_EMPTY"),
        (_zip("xl/sharedStrings.xml", b"0" * 300_000_000), 413, "IMPORT_FILE_TOO_LARGE"),
    ],
    ids=["csv", "chinese csv", "broken zip", "plain zip", "headers", "empty", "zip bomb"],
)
def test_a_file_that_is_not_the_template(
    scene: Scene, build: Callable[[], bytes], status: int, code: str
) -> None:
    data = build()
    before = everything(scene.session)
    r = scene.upload(V, data)
    assert (r.status_code, r.json()["error"]["code"]) == (status, code), r.text
    assert changed_tables(before, everything(scene.session)) == []


def test_too_many_rows(scene: Scene, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scene.settings, "import_max_rows", 2)
    rows = [scene.volunteer_row(n) for n in range(3)]
    r = scene.upload(V, workbook(V, rows))
    assert (r.status_code, r.json()["error"]["code"]) == (413, "IMPORT_TOO_MANY_ROWS")


EXCEL_LAST_ROW = 1_048_576


@pytest.mark.parametrize("value", ["张三", None], ids=["a value", "a formatted empty cell"])
def test_a_cell_far_below_the_data_is_refused_before_the_gap_is_read(
    scene: Scene, value: str | None
) -> None:
    # A 5 KB file whose last row is Excel's last: the reader would fill the million rows
    # between as blank ones, seconds of work for every upload.
    data = with_cell_at(workbook(V, [scene.volunteer_row(0)]), EXCEL_LAST_ROW, value)
    assert len(data) < 10_000
    before = everything(scene.session)
    r = scene.upload(V, data)
    assert (r.status_code, r.json()["error"]["code"]) == (413, "IMPORT_TOO_MANY_ROWS"), r.text
    last_row = 1 + scene.settings.import_max_rows + MAX_BLANK_ROWS
    assert r.json()["error"]["details"] == {
        "max_rows": scene.settings.import_max_rows,
        "last_row": last_row,
    }
    assert changed_tables(before, everything(scene.session)) == []


def test_formatted_blank_rows_within_the_allowance_are_skipped(scene: Scene) -> None:
    last_row = 1 + scene.settings.import_max_rows + MAX_BLANK_ROWS
    data = with_cell_at(workbook(V, [scene.volunteer_row(0)]), last_row, None)
    r = scene.upload(V, data)
    assert r.status_code == 202, r.text
    assert (r.json()["status"], r.json()["total"]) == ("done", 1)


# ---------------------------------------------------------------- who, where, and retries


def test_outsider_coordinator_gets_404(scene: Scene) -> None:
    outsider = make_coordinator(scene.session, scene.tree.townships[1])
    data = workbook(V, [scene.volunteer_row(1)])
    before = everything(scene.session)
    for unit in (scene.tree.townships[0], scene.tree.stations[0], scene.tree.county):
        r = scene.upload(V, data, unit_id=unit.id, user=outsider)
        assert (r.status_code, r.json()["error"]["code"]) == (404, "ORG_UNIT_NOT_FOUND")
    assert changed_tables(before, everything(scene.session)) == []
    # Their import is not theirs to read either; the county's coordinator reads it.
    mine = scene.upload(V, data).json()
    r = scene.client.get(f"{API}/imports/{mine['id']}", headers=scene.headers(outsider))
    assert (r.status_code, r.json()["error"]["code"]) == (404, "IMPORT_NOT_FOUND")
    county = make_coordinator(scene.session, scene.tree.county)
    r = scene.client.get(f"{API}/imports/{mine['id']}", headers=scene.headers(county))
    assert r.json()["status"] == "done"


def test_residents_may_not_import(scene: Scene) -> None:
    resident = make_user(scene.session, roles=[(AccountRole.RESIDENT, None)])
    r = scene.upload(V, workbook(V, [scene.volunteer_row(1)]), user=resident)
    assert (r.status_code, r.json()["error"]["code"]) == (403, "STAFF_ONLY")
    r = scene.client.get(f"{API}/imports/templates/volunteers", headers=scene.headers(resident))
    assert r.status_code == 403


def test_a_retried_upload_imports_once(scene: Scene) -> None:
    data = workbook(V, [scene.volunteer_row(1), scene.volunteer_row(2)])
    first = scene.upload(V, data, **{"Idempotency-Key": "import-2026-12-02"})
    again = scene.upload(V, data, **{"Idempotency-Key": "import-2026-12-02"})
    assert first.status_code == again.status_code == 202, again.text
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.json() == first.json()
    assert scene.count(Volunteer) == 2 and scene.count(BulkImport) == 1
    # Another file under the same key is refused.
    other = scene.upload(
        V, workbook(V, [scene.volunteer_row(3)]), **{"Idempotency-Key": "import-2026-12-02"}
    )
    assert (other.status_code, other.json()["error"]["code"]) == (422, "IDEMPOTENCY_KEY_REUSED")


# ---------------------------------------------------------------- large files in the background


@pytest.fixture
def small_threshold(scene: Scene, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(scene.settings, "import_background_rows", 2)
    yield


def _run_timers(scene: Scene) -> int:
    app = scene.client.app
    database = app.state.database  # type: ignore[attr-defined]
    assert isinstance(database, BoundDatabase)
    return Scheduler(database, settings=scene.settings).run_due()


@pytest.mark.usefixtures("small_threshold")
def test_a_large_file_is_written_in_the_background(scene: Scene) -> None:
    rows = [scene.volunteer_row(n, n % 2) for n in range(1, 4)]
    r = scene.upload(V, workbook(V, rows))
    body = r.json()
    assert (body["status"], body["total"], body["done"]) == ("applying", 3, 0), r.text
    assert scene.count(Volunteer) == 0
    # The rows waiting are sealed: no phone in the stored text.
    raw = scene.session.execute(text("SELECT payload FROM imports")).scalar_one()
    assert raw and "13800000001" not in raw and "志愿者1" not in raw
    assert _run_timers(scene) == 1
    polled = scene.client.get(f"{API}/imports/{body['id']}", headers=scene.headers()).json()
    assert (polled["status"], polled["done"], polled["errors"]) == ("done", 3, [])
    assert scene.count(Volunteer) == 3
    scene.session.expire_all()
    assert scene.session.get(BulkImport, body["id"]).payload is None  # type: ignore[union-attr]


@pytest.mark.usefixtures("small_threshold")
def test_a_phone_taken_meanwhile_fails_the_background_write(scene: Scene) -> None:
    rows = [scene.volunteer_row(n) for n in range(1, 4)]
    body = scene.upload(V, workbook(V, rows)).json()
    make_user(scene.session, phone="13800000003")
    users = scene.count(User)
    assert _run_timers(scene) == 1
    polled = scene.client.get(f"{API}/imports/{body['id']}", headers=scene.headers()).json()
    assert polled["status"] == "failed"
    assert [(e["row"], e["code"]) for e in polled["errors"]] == [(4, "PHONE_TAKEN")]
    assert scene.count(Volunteer) == 0 and scene.count(User) == users


@pytest.mark.usefixtures("small_threshold")
def test_the_same_file_under_a_new_key_is_written_once(scene: Scene) -> None:
    # Both uploads pass the checks while neither is written; the second one to be written
    # finds the phones taken and writes nothing.
    rows = [scene.volunteer_row(n) for n in range(1, 4)]
    data = workbook(V, rows)
    first = scene.upload(V, data, **{"Idempotency-Key": "roster-a"}).json()
    second = scene.upload(V, data, **{"Idempotency-Key": "roster-b"}).json()
    assert first["id"] != second["id"]
    assert first["status"] == second["status"] == "applying"
    assert _run_timers(scene) == 2
    statuses = {
        body["id"]: scene.client.get(f"{API}/imports/{body['id']}", headers=scene.headers()).json()
        for body in (first, second)
    }
    assert sorted(s["status"] for s in statuses.values()) == ["done", "failed"]
    failed = next(s for s in statuses.values() if s["status"] == "failed")
    assert [e["code"] for e in failed["errors"]] == ["PHONE_TAKEN"]
    assert scene.count(Volunteer) == 3
    # A small file sent again under a new key is refused row by row at once.
    small = workbook(V, [scene.volunteer_row(9)])
    assert scene.upload(V, small, **{"Idempotency-Key": "one-a"}).json()["status"] == "done"
    again = scene.upload(V, small, **{"Idempotency-Key": "one-b"}).json()
    assert (again["status"], [e["code"] for e in again["errors"]]) == ("failed", ["PHONE_TAKEN"])
    assert scene.count(Volunteer) == 4
