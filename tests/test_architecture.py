"""The shape of the code: no import cycle, no two domains importing each other, files of a size
a reader can hold, and a README whose layout section names what is in the tree.

Every import anywhere in a module counts (top level, inside functions, under TYPE_CHECKING): a
cycle that only a late import keeps from failing at start-up is still two modules that cannot be
understood apart.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app"
MAX_LINES = 400


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES: dict[str, Path] = {_module_name(p): p for p in sorted(APP.rglob("*.py"))}


def _resolve(name: str) -> str | None:
    """The module an imported dotted name lives in (a name inside a module resolves to it)."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def _imports(module: str) -> set[str]:
    path = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        for target in targets:
            resolved = _resolve(target)
            if resolved and resolved != module and resolved != "app":
                found.add(resolved)
    return found


GRAPH: dict[str, set[str]] = {module: _imports(module) for module in MODULES}


def _domain(module: str) -> str:
    return module.split(".")[1] if module.count(".") >= 1 else module


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one member (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(sorted(component))
    return components


def test_no_module_import_cycle() -> None:
    assert _cycles(GRAPH) == []


def _mutual_pairs() -> dict[str, str]:
    """Each pair of domains importing each other, with one import each way as the evidence."""
    arrows: dict[tuple[str, str], list[str]] = defaultdict(list)
    for module, targets in GRAPH.items():
        for target in targets:
            a, b = _domain(module), _domain(target)
            if a != b:
                arrows[(a, b)].append(f"{module} -> {target}")
    return {
        f"{a} <-> {b}": f"{arrows[(a, b)][0]}; {arrows[(b, a)][0]}"
        for (a, b) in arrows
        if a < b and (b, a) in arrows
    }


def test_no_two_domains_import_each_other() -> None:
    mutual = _mutual_pairs()
    assert sorted(f"{pair}: {why}" for pair, why in mutual.items()) == []


def test_the_checker_sees_a_cycle_and_a_mutual_pair() -> None:
    graph = {"app.a.x": {"app.b.y"}, "app.b.y": {"app.a.x"}, "app.c": set()}
    assert _cycles(graph) == [["app.a.x", "app.b.y"]]
    assert _resolve("app.wishes.access.visible_wish") == "app.wishes.access"


def _oversized() -> list[str]:
    """Modules over the limit whose docstring has no paragraph starting "Size:"."""
    oversized = []
    for module, path in MODULES.items():
        lines = path.read_text(encoding="utf-8").count("\n")
        if lines <= MAX_LINES:
            continue
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        if not any(p.strip().startswith("Size:") for p in doc.split("\n\n")):
            oversized.append(module)
    return oversized


def test_every_file_is_small_or_says_why() -> None:
    """A file over the limit opens with a docstring with a paragraph starting "Size:"."""
    assert _oversized() == []


def test_readme_layout_names_every_package() -> None:
    """Every package under app/ is named in README's layout block, and every name there exists.

    The block lists packages as `name/` (sub-packages as `name/sub/`) between the `app/` line
    and the next top-level entry.
    """
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("## Layout", 1)[1].split("```", 2)[1]
    app_lines = block.split("\napp/", 1)[1].split("\n")
    named: set[str] = set()
    for line in app_lines[1:]:
        if line and not line.startswith(" "):
            break
        named.update(re.findall(r"(?:^|\s)([a-z_]+(?:/[a-z_]+)*)/(?=\s|$)", line))
    packages = {
        p.parent.relative_to(APP).as_posix() for p in APP.rglob("__init__.py") if p.parent != APP
    }
    assert sorted(packages - named) == []
    assert sorted(named - packages) == []


SKIPPED_TEST_FOLDERS = {"fixtures", "__pycache__"}


def test_tests_mirror_the_app() -> None:
    """Every folder under tests/ (but fixtures/) names a package under app/ at the same place
    (tests/records/stars/ for app/records/stars/): a module's tests are found by its path."""
    tests = ROOT / "tests"
    folders = [p.relative_to(tests) for p in tests.rglob("*") if p.is_dir()]
    strays = sorted(
        f.as_posix()
        for f in folders
        if not any(part in SKIPPED_TEST_FOLDERS or part.startswith(".") for part in f.parts)
        and not (APP / f / "__init__.py").is_file()
    )
    assert strays == [], f"folders under tests/ that name no package under app/: {strays}"
