"""The console's hours, volunteers, statistics, import, batch dispatch, wishes and review pages:
listed in pages/index.js, and every API call they (and ui.js) make names a route the app serves,
with the data-test names the browser test reads and no markup built from strings."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from fastapi import FastAPI

from app.main import API_PREFIX

STATIC = Path(__file__).resolve().parents[2] / "app" / "console" / "static"
PAGES = ("hours.js", "volunteers.js", "stats.js", "import.js", "batch.js", "wishes.js", "review.js")
MODULES = (*(f"pages/{name}" for name in PAGES), "unit-picker.js", "ui.js")

# A path literal: '/x', `/x/${id}/y` (a query string never goes into the literal).
LITERAL = re.compile(r"[`'\"](/[A-Za-z][^`'\"\s]*)[`'\"]")
# A call: api.get('/x'), api.post(`/x/${id}`), download('/x', ...), upload(`/x`, ...).
CALL = re.compile(
    r"(?:\bapi\.(?P<verb>get|post|put|delete)|\b(?P<down>download)|\b(?P<up>upload))"
    r"\(\s*[`'\"](?P<path>/[^`'\"]*)[`'\"]"
)
PARAM = re.compile(r"\$\{[^}]*\}|\{[a-z_]+\}")


def source(name: str) -> str:
    return (STATIC / name).read_text(encoding="utf-8")


def shape(path: str) -> str:
    return PARAM.sub("{}", path)


def calls(text: str) -> set[tuple[str, str]]:
    found = set()
    for match in CALL.finditer(text):
        verb = match["verb"] or ("get" if match["down"] else "post")
        found.add((verb.upper(), shape(match["path"])))
    return found


def served(app: FastAPI) -> set[tuple[str, str]]:
    return {
        (method.upper(), shape(path.removeprefix(API_PREFIX)))
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    }


def test_the_pages_are_listed_in_the_index() -> None:
    index = source("pages/index.js")
    imported = dict(re.findall(r"import\s+(\w+)\s+from\s+'\./([\w-]+\.js)';", index))
    listed = re.search(r"export default \[([^\]]*)\]", index)
    assert listed is not None, index
    names = {name.strip() for name in listed.group(1).split(",")}
    for page in PAGES:
        binding = next((b for b, file in imported.items() if file == page), None)
        assert binding is not None, f"pages/index.js does not import {page}"
        assert binding in names, f"pages/index.js imports {page} but does not list it"


@pytest.mark.parametrize("page", PAGES)
def test_each_page_declares_its_route_and_navigation(page: str) -> None:
    text = source(f"pages/{page}")
    stem = page.removesuffix(".js")
    assert f"route: '#/{stem}'" in text
    assert f"nav: 'nav-{stem}'" in text
    assert re.search(r"title: '[\u4e00-\u9fff]+'", text)


@pytest.mark.parametrize("module", MODULES)
def test_every_api_call_names_a_served_route(app: FastAPI, module: str) -> None:
    text = source(module)
    made = calls(text)
    # Every path literal in the module is the path of a call: none is used some other way
    # (a hand-built URL would bypass the token, the refresh and the Idempotency-Key).
    assert {shape(p) for p in LITERAL.findall(text)} == {path for _, path in made}
    unknown = sorted(made - served(app))
    assert unknown == [], f"{module} calls routes the app does not serve: {unknown}"


def test_the_calls_the_pages_rely_on() -> None:
    """What each page is for, as calls: a change that drops one fails here."""
    expected = {
        "hours.js": {
            ("GET", "/org-units/{}/service-records"),
            ("POST", "/service-records/{}/confirm"),
            ("POST", "/service-records/{}/reject"),
            ("GET", "/org-units/{}/record-flags"),
            ("GET", "/org-units/{}/star-notices"),
            ("POST", "/star-awards/{}/objection"),
            ("POST", "/star-awards/{}/resolve"),
            ("POST", "/volunteers/{}/certificates"),
            ("GET", "/certificates/{}/pdf"),
        },
        "volunteers.js": {
            ("GET", "/volunteers"),
            ("GET", "/volunteers/{}"),
            ("POST", "/volunteers/{}/suspend"),
            ("POST", "/volunteers/{}/reinstate"),
            ("PUT", "/volunteers/{}/qualification"),
            ("PUT", "/volunteers/{}/insurance"),
            ("GET", "/org-units/{}/staff"),
        },
        "stats.js": {
            ("GET", "/org-units/{}/stats"),
            ("GET", "/org-units/{}/stats/series"),
            ("GET", "/org-units/{}/stats/drill"),
            ("GET", "/org-units/{}/stats/export"),
            ("GET", "/org-units/{}/ranking"),
            ("GET", "/org-units/{}/ledger"),
            ("GET", "/org-units/{}/ranking-weights"),
            ("PUT", "/org-units/{}/ranking-weights"),
            ("DELETE", "/org-units/{}/ranking-weights"),
        },
        "import.js": {
            ("GET", "/imports/templates/{}"),
            ("POST", "/org-units/{}/imports/{}"),
            ("GET", "/imports/{}"),
        },
        "batch.js": {
            ("POST", "/org-units/{}/dispatch-plan"),
            ("POST", "/org-units/{}/dispatch-plan/apply"),
            ("GET", "/dispatch-plan/applies/{}"),
        },
    }
    for page, wanted in expected.items():
        assert wanted <= calls(source(f"pages/{page}")), page


@pytest.mark.parametrize(
    ("page", "names"),
    [
        ("hours.js", ("hours-row", "data-record-id", "confirm-hours")),
        (
            "stats.js",
            (
                "stats-from",
                "stats-to",
                "stats-apply",
                "stats-figure",
                "stats-matrix",
                "data-key",
                "data-group",
                "stats-download-xlsx",
                "ledger-download-xlsx",
                "ledger-download-pdf",
                "weights-save",
                "weights-reset",
            ),
        ),
    ],
)
def test_agreed_data_test_names(page: str, names: tuple[str, ...]) -> None:
    text = source(f"pages/{page}")
    for name in names:
        assert f"'{name}'" in text, f"{page} lacks {name}"


@pytest.mark.parametrize("module", MODULES)
def test_no_markup_from_strings(module: str) -> None:
    text = source(module)
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in text, f"{module} uses {sink}"
    assert "style=" not in text  # the CSP refuses style attributes


@pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js to parse the modules")
@pytest.mark.parametrize("module", MODULES)
def test_modules_parse(module: str) -> None:
    done = subprocess.run(
        ["node", "--input-type=module", "--check"],
        input=source(module),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr


SEASON_FIGURES = [
    {"key": key, "label": label, "group": group, "group_label": name, "value": n, "unit": unit}
    for key, label, unit in (
        ("seasons.season.wishes", "各季完成心愿", "件"),
        ("seasons.season.activities", "各季开展活动", "个"),
        ("seasons.season.hours", "各季服务时长", "小时"),
    )
    for n, (group, name) in enumerate((("family", "亲情季"), ("growth", "成长季")))
] + [
    {"key": "intake.by_category", "label": "按服务类别", "group": "care", "group_label": "关爱",
     "value": 1, "unit": "件"},
    {"key": "intake.by_channel", "label": "按渠道", "group": "self", "group_label": "本人",
     "value": 1, "unit": "件"},
]  # fmt: skip


@pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js to run the module")
def test_season_figures_sit_side_by_side_and_other_breakdowns_stay_lists() -> None:
    """The statistics page puts a season's wishes, activities and hours in one row (a column
    per figure, every cell a figure to drill), and keeps breakdowns with groups of their own
    (intake's categories and channels) as lists."""
    script = f"""
    import {{ families }} from './pages/stats.js';
    const grouped = new Map();
    for (const f of {json.dumps(SEASON_FIGURES, ensure_ascii=False)}) {{
      if (!grouped.has(f.key)) grouped.set(f.key, []);
      grouped.get(f.key).push(f);
    }}
    const found = families(grouped);
    console.log(JSON.stringify({{
      lists: found.lists,
      tables: found.tables.map((t) => ({{
        family: t.family, title: t.title, headings: t.columns.map((c) => c.heading),
        rows: t.rows.map((r) => [r.label, ...r.cells.map((f) => f && [f.key, f.group, f.value])]),
      }})),
    }}));
    """
    done = subprocess.run(
        ["node", "--input-type=module", "-e", script],
        cwd=STATIC,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert seen["lists"] == ["intake.by_category", "intake.by_channel"]
    assert seen["tables"] == [
        {
            "family": "seasons.season",
            "title": "四季红季节",
            "headings": ["完成心愿", "开展活动", "服务时长"],
            "rows": [
                ["亲情季", ["seasons.season.wishes", "family", 0],
                 ["seasons.season.activities", "family", 0], ["seasons.season.hours", "family", 0]],
                ["成长季", ["seasons.season.wishes", "growth", 1],
                 ["seasons.season.activities", "growth", 1], ["seasons.season.hours", "growth", 1]],
            ],
        }
    ]  # fmt: skip
