"""Which errors each operation can send, read from the code.

An AST walk from the endpoint function and every dependency FastAPI resolved for it (`Depends`,
and aliases such as `CurrentUser` or `StaffUser`), into the app functions they reference, followed
by name through module globals and imports, transitively, once each. Every `AppError` subclass
raised, constructed or handed on along the way counts, with the `code=`/`status_code=` given at
the call when they are literals. Classes of the app met on the way are walked too (their methods),
as are the functions held in module-level tables.

A table registered with `keyed_table` (the wish loop's event specs) is entered only by the keys
the operation names: an endpoint that fires `WishEvent.ACCEPT` (as a call's argument or a value
it passes on, not in a comparison) reaches the accept spec's errors, not every event's.

It over-approximates (a branch that cannot run for this endpoint still counts), which is the
safe side for a client: a declared status that never comes costs nothing, an undeclared one
breaks generated clients. What it cannot see (a method called on an object it has no name for)
the tests catch by sending real requests (tests/test_openapi.py).
"""

from __future__ import annotations

import ast
import enum
import functools
import inspect
import types
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

from fastapi.dependencies.models import Dependant

from app.errors import AppError

_APP = "app"


@dataclass(frozen=True, order=True)
class Raised:
    status: int
    code: str
    message: str


def dependency_calls(dependant: Dependant) -> Iterator[Any]:
    for dep in dependant.dependencies:
        if dep.call is not None:
            yield dep.call
        yield from dependency_calls(dep)


@dataclass(frozen=True)
class _Named:
    """A key of a keyed table, named by the code on the way (the table is entered by it)."""

    key: Any


# Tables entered by a key chosen at run time: id -> the table; and all their keys.
_KEYED: dict[int, dict[Any, Any]] = {}
_KEYS: set[Any] = set()


def keyed_table(table: dict[Any, Any]) -> None:
    """Enter `table` only by the keys an operation names (see the module's docstring)."""
    _KEYED[id(table)] = table
    _KEYS.update(table)
    _CLOSURE.clear()
    _EDGES.clear()


def errors_of(endpoint: Any, dependant: Dependant) -> set[Raised]:
    """The AppErrors an endpoint and its dependencies can raise."""
    facts = set(_reachable(endpoint))
    for call in dependency_calls(dependant):
        facts |= _reachable(call)
    entered: set[Any] = set()
    while True:
        keys = {fact.key for fact in facts if isinstance(fact, _Named)} - entered
        if not keys:
            break
        for key in keys:
            entered.add(key)
            for table in _KEYED.values():
                if key in table:
                    facts |= _reachable(table[key])
    return {fact for fact in facts if isinstance(fact, Raised)}


def _ours(obj: Any) -> bool:
    module = getattr(obj, "__module__", None) or ""
    return module == _APP or module.startswith(_APP + ".")


def _tree(func: types.FunctionType) -> ast.AST | None:
    """The function's definition, from its module's file parsed once."""
    return _definitions(func.__code__.co_filename).get(func.__code__.co_firstlineno)


@cache
def _definitions(filename: str) -> dict[int, ast.AST]:
    """Every function defined in a file, by the line its code object starts on (the first
    decorator's line when it has decorators)."""
    try:
        with open(filename, encoding="utf-8") as file:
            tree = ast.parse(file.read())
    except (OSError, SyntaxError):
        return {}
    found: dict[int, ast.AST] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            lines = [node.lineno, *(decorator.lineno for decorator in node.decorator_list)]
            found[min(lines)] = node
    return found


def _normalise(obj: Any) -> Any:
    if isinstance(obj, staticmethod | classmethod):
        obj = obj.__func__
    if isinstance(obj, functools.partial):
        obj = obj.func
    if inspect.ismethod(obj):
        obj = obj.__func__
    try:
        return inspect.unwrap(obj)
    except ValueError:
        return None


_CLOSURE: dict[int, tuple[Any, frozenset[Raised | _Named]]] = {}


def _reachable(start: Any) -> frozenset[Raised | _Named]:
    """Everything raised by what `start` leads to, found once per object: Tarjan's strongly
    connected components over `_edges`, so that every member of a cycle shares one answer."""
    root = _normalise(start)
    if root is None:
        return frozenset()
    known = _CLOSURE.get(id(root))
    if known is not None and known[0] is root:
        return known[1]
    index: dict[int, int] = {}
    low: dict[int, int] = {}
    objects: dict[int, Any] = {}
    component_stack: list[int] = []
    on_stack: set[int] = set()
    # Each frame: (node id, iterator over the node's successors).
    frames: list[tuple[int, Any]] = []

    def enter(obj: Any) -> None:
        key = id(obj)
        objects[key] = obj
        index[key] = low[key] = len(index)
        component_stack.append(key)
        on_stack.add(key)
        frames.append((key, iter(_edges(obj)[1])))

    enter(root)
    while frames:
        key, successors = frames[-1]
        advanced = False
        for successor in successors:
            child = _normalise(successor)
            if child is None:
                continue
            child_key = id(child)
            done = _CLOSURE.get(child_key)
            if done is not None and done[0] is child:
                continue
            if child_key not in index:
                enter(child)
                advanced = True
                break
            if child_key in on_stack:
                low[key] = min(low[key], index[child_key])
        if advanced:
            continue
        frames.pop()
        if frames:
            parent = frames[-1][0]
            low[parent] = min(low[parent], low[key])
        if low[key] != index[key]:
            continue
        members = []
        while True:
            member = component_stack.pop()
            on_stack.discard(member)
            members.append(member)
            if member == key:
                break
        raised: set[Raised | _Named] = set()
        for member in members:
            own, successors_of = _edges(objects[member])
            raised |= own
            for successor in successors_of:
                child = _normalise(successor)
                done = _CLOSURE.get(id(child)) if child is not None else None
                if done is not None and done[0] is child:
                    raised |= done[1]
        closed = frozenset(raised)
        for member in members:
            _CLOSURE[member] = (objects[member], closed)
    return _CLOSURE[id(root)][1]


_EDGES: dict[int, tuple[Any, frozenset[Raised | _Named], tuple[Any, ...]]] = {}


def _edges(obj: Any) -> tuple[frozenset[Raised | _Named], tuple[Any, ...]]:
    """What one object raises itself, and the objects it leads to (computed once)."""
    known = _EDGES.get(id(obj))
    if known is not None and known[0] is obj:
        return known[1], known[2]
    raised: set[Raised | _Named] = set()
    following: list[Any] = []
    if id(obj) in _KEYED:
        pass  # entered by the keys named (errors_of), not as a whole
    elif inspect.isclass(obj):
        if issubclass(obj, AppError):
            raised.add(_raised(obj, None))
        elif _ours(obj):
            following.extend(value for value in vars(obj).values() if _leads_somewhere(value))
    elif isinstance(obj, property):
        following.extend(part for part in (obj.fget, obj.fset) if part is not None)
    elif isinstance(obj, dict | list | tuple | set | frozenset):
        items = list(obj.items()) if isinstance(obj, dict) else list(obj)
        for item in items:
            following.extend(
                part
                for part in (item if isinstance(item, tuple) else (item,))
                if _leads_somewhere(part)
            )
    elif inspect.isfunction(obj):
        tree = _tree(obj) if _ours(obj) else None
        if tree is not None:
            _walk(tree, obj.__globals__, raised, following)
    elif _ours(type(obj)) and not isinstance(obj, types.ModuleType):
        # An instance the code names (a module-level singleton, a table's entry): its class's
        # methods and the functions it holds.
        following.append(type(obj))
        following.extend(
            value
            for value in getattr(obj, "__dict__", {}).values()
            if inspect.isfunction(value) or inspect.ismethod(value)
        )
    _EDGES[id(obj)] = (obj, frozenset(raised), tuple(following))
    return frozenset(raised), tuple(following)


def _walk(
    tree: ast.AST,
    namespace: dict[str, Any],
    raised: set[Raised | _Named],
    following: list[Any],
) -> None:
    nodes = list(ast.walk(tree))
    excepted = {
        id(node)
        for handler in nodes
        if isinstance(handler, ast.ExceptHandler) and handler.type is not None
        for node in ast.walk(handler.type)
    }
    compared = {
        id(node)
        for compare in nodes
        if isinstance(compare, ast.Compare)
        for node in ast.walk(compare)
    }
    calls = {id(node.func): node for node in nodes if isinstance(node, ast.Call)}
    for node in nodes:
        if not isinstance(node, ast.Name | ast.Attribute) or id(node) in excepted:
            continue
        if not isinstance(node.ctx, ast.Load):
            continue
        target = _resolve(node, namespace)
        if target is None:
            continue
        if inspect.isclass(target) and issubclass(target, AppError):
            raised.add(_raised(target, calls.get(id(node))))
        elif isinstance(target, enum.Enum):
            if id(node) not in compared and _is_key(target, _KEYS):
                raised.add(_Named(target))
        elif _leads_somewhere(target):
            following.append(target)


def _is_key(value: enum.Enum, keys: set[Any]) -> bool:
    try:
        return value in keys
    except TypeError:
        return False


def _leads_somewhere(obj: Any) -> bool:
    """Functions and classes of the app, tables of them, and instances of the app's classes."""
    if inspect.isfunction(obj) or inspect.isclass(obj):
        return _ours(obj)
    if isinstance(obj, dict | list | tuple | set | frozenset):
        values = obj.values() if isinstance(obj, dict) else obj
        return any(_leads_somewhere(value) for value in values)
    if isinstance(obj, staticmethod | classmethod | property | functools.partial):
        return True
    return _ours(type(obj)) and not isinstance(obj, enum.Enum)


def _raised(error: type[AppError], call: ast.Call | None) -> Raised:
    code, status, message = error.code, error.status_code, error.message
    if call is not None:
        for keyword in call.keywords:
            value = keyword.value
            if not isinstance(value, ast.Constant):
                continue
            if keyword.arg == "code" and isinstance(value.value, str):
                code = value.value
            elif keyword.arg == "status_code" and isinstance(value.value, int):
                status = value.value
            elif keyword.arg == "message" and isinstance(value.value, str):
                message = value.value
        first = call.args[0] if call.args else None
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            message = first.value
    return Raised(status, code, message)


def _resolve(node: ast.expr, namespace: dict[str, Any]) -> Any:
    if isinstance(node, ast.Name):
        return namespace.get(node.id)
    if isinstance(node, ast.Attribute):
        base = _resolve(node.value, namespace)
        if isinstance(base, types.ModuleType) or (inspect.isclass(base) and _ours(base)):
            return inspect.getattr_static(base, node.attr, None)
    return None
