"""What the console's files may and may not contain, read as text: no build step means these
files are exactly what browsers run."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.console.router import MEDIA_TYPES, STATIC

SCRIPTS = sorted(STATIC.rglob("*.js"))
PAGES = STATIC / "pages"


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _code(path: Path) -> str:
    """The script without its comments (a comment may name what the code must never do)."""
    text = re.sub(r"/\*.*?\*/", "", _text(path), flags=re.S)
    return "\n".join(re.sub(r"(^|\s)//.*$", "", line) for line in text.splitlines())


def test_there_are_scripts_to_check() -> None:
    assert {p.name for p in SCRIPTS} >= {"app.js", "api.js", "ui.js", "index.js"}


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.relative_to(STATIC).as_posix())
def test_no_markup_from_strings_and_no_eval(path: Path) -> None:
    code = _code(path)
    forbidden = [
        r"\.innerHTML\b",
        r"\.outerHTML\b",
        r"insertAdjacentHTML",
        r"document\.write",
        r"\beval\s*\(",
        r"\bnew\s+Function\b",
        r"\bsetTimeout\s*\(\s*['\"`]",
        r"\bsetInterval\s*\(\s*['\"`]",
        r"createContextualFragment",
        r"DOMParser",
        r"setAttribute\(\s*['\"]on",
        r"setAttribute\(\s*['\"]style",
    ]
    found = [pattern for pattern in forbidden if re.search(pattern, code)]
    assert found == [], f"{path.name}: {found}"


def test_the_checker_sees_what_it_forbids(tmp_path: Path) -> None:
    bad = tmp_path / "bad.js"
    bad.write_text("// innerHTML in a comment is fine\nnode.innerHTML = text;\n", encoding="utf-8")
    assert ".innerHTML" in _code(bad) and "comment" not in _code(bad)


@pytest.mark.parametrize("path", [*SCRIPTS, STATIC / "index.html", STATIC / "style.css"])
def test_nothing_is_loaded_from_another_host(path: Path) -> None:
    hosts = re.findall(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", _code(path), flags=re.I)
    assert [h for h in hosts if h != "http://www.w3.org"] == [], path.name


def test_the_page_has_no_inline_script_or_style() -> None:
    page = _text(STATIC / "index.html")
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", page) == []
    assert "<style" not in page and " style=" not in page and " on" not in page.lower()


def _listed_pages() -> list[str]:
    index = _text(PAGES / "index.js")
    return re.findall(r"^import\s+\w+\s+from\s+'\./([\w-]+\.js)';$", index, flags=re.M)


def test_every_listed_page_exists_and_is_in_the_list() -> None:
    index = _text(PAGES / "index.js")
    listed = _listed_pages()
    assert "review.js" in listed and "me.js" in listed
    names = re.findall(r"^import\s+(\w+)\s+from", index, flags=re.M)
    exported = re.search(r"export default \[([^\]]*)\]", index)
    assert exported is not None
    assert [n.strip() for n in exported.group(1).split(",") if n.strip()] == names
    for name in listed:
        assert (PAGES / name).is_file(), name
    assert sorted(p.name for p in PAGES.glob("*.js") if p.name != "index.js") == sorted(listed)


@pytest.mark.parametrize("name", _listed_pages())
def test_a_page_module_names_its_route_title_and_render(name: str) -> None:
    """`export default { route: '#/<file name>', title: '中文', nav: 'nav-…' or null, render }`
    (in any order and layout)."""
    code = _code(PAGES / name)
    exported = re.search(r"export default \{(.*?)\};?\s*$", code, flags=re.S)
    assert exported is not None, name
    fields = exported.group(1)
    route = re.search(r"\broute:\s*'#/([a-z-]+)'", fields)
    title = re.search(r"\btitle:\s*'([^']+)'", fields)
    nav = re.search(r"\bnav:\s*(?:'(nav-[a-z-]+)'|null)", fields)
    assert route is not None and route.group(1) == name.removesuffix(".js"), name
    assert title is not None and re.search(r"[\u4e00-\u9fff]", title.group(1)), name
    assert nav is not None, name
    assert re.search(r"\brender\b", fields), name
    defines = r"^(export )?(async )?function render\(|\brender\(root, ctx\)"
    assert re.search(defines, code, flags=re.M), name


def test_nav_names_are_unique() -> None:
    navs = [
        m.group(1)
        for name in _listed_pages()
        if (m := re.search(r"\bnav:\s*'(nav-[a-z-]+)'", _code(PAGES / name)))
    ]
    assert len(navs) == len(set(navs)) and {"nav-review", "nav-me"} <= set(navs)


@pytest.mark.parametrize(
    "name",
    [
        "signin-username",
        "signin-password",
        "signin-submit",
        "nav-review",
        "nav-wishes",
        "nav-dispatch",
        "nav-me",
        "review-item",
        "approve",
        "reject",
        "dialog-reason",
        "dialog-ok",
        "status-badge",
        "toast",
    ],
)
def test_the_agreed_test_names_are_used(name: str) -> None:
    code = "\n".join(_code(p) for p in SCRIPTS)
    assert f"'{name}'" in code, name


def test_every_file_has_a_served_type() -> None:
    served = [p for p in STATIC.rglob("*") if p.is_file() and p.name != "README"]
    assert sorted(p.name for p in served if p.suffix not in MEDIA_TYPES) == []
