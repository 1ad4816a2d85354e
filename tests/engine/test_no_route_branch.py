"""The engine knows no route by name, and the routes never reach up into the engine.

Read from the source (an AST walk, a stricter grep): no `JobRoute.X` in engine/, no
comparison with a route's name, no import of a route's own package; and nothing in
routes/ imports engine/. What the engine does per route it learns from the registry.
"""

from __future__ import annotations

import ast
from pathlib import Path

import piper_desktop
from piper_desktop.store.enums import JobRoute

PACKAGE = Path(piper_desktop.__file__).parent
ROUTE_NAMES = {route.value for route in JobRoute}
ROUTE_PACKAGES = ("tiktok_api", "upload_post", "web")


def _sources(layer: str) -> list[tuple[str, ast.Module]]:
    return [
        (str(path.relative_to(PACKAGE)), ast.parse(path.read_text(encoding="utf-8")))
        for path in sorted((PACKAGE / layer).rglob("*.py"))
    ]


def _imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    return [node for node in ast.walk(tree) if isinstance(node, ast.Import | ast.ImportFrom)]


def _imported(path: str, node: ast.stmt) -> list[str]:
    """Absolute module names an import statement brings in."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if not isinstance(node, ast.ImportFrom):
        return []
    if node.level == 0:
        return [node.module or ""]
    parts = ["piper_desktop", *Path(path).with_suffix("").parts]
    base = parts[: len(parts) - node.level]
    return [".".join([*base, node.module] if node.module else base)]


def _within(module: str, *packages: str) -> bool:
    return any(module == package or module.startswith(package + ".") for package in packages)


def _route_branches(path: str, tree: ast.Module) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "JobRoute"
        ):
            found.append(f"{path}:{node.lineno}: JobRoute.{node.attr}")
        if isinstance(node, ast.Compare):
            for side in [node.left, *node.comparators]:
                names = (
                    [side] if not isinstance(side, ast.Tuple | ast.List | ast.Set) else side.elts
                )
                for name in names:
                    if isinstance(name, ast.Constant) and name.value in ROUTE_NAMES:
                        found.append(f"{path}:{node.lineno}: compares with {name.value!r}")
        if (
            isinstance(node, ast.MatchValue)
            and isinstance(node.value, ast.Constant)
            and node.value.value in ROUTE_NAMES
        ):
            found.append(f"{path}:{node.lineno}: case {node.value.value!r}")
    return found


def test_the_engine_has_no_route_branch() -> None:
    found = [hit for path, tree in _sources("engine") for hit in _route_branches(path, tree)]
    assert found == []


def test_the_engine_reaches_routes_only_through_their_protocol() -> None:
    own = [f"piper_desktop.routes.{name}" for name in ROUTE_PACKAGES]
    found = [
        f"{path}:{node.lineno}: {module}"
        for path, tree in _sources("engine")
        for node in _imports(tree)
        for module in _imported(path, node)
        if _within(module, *own, "piper_desktop.publishing")
    ]
    assert found == []


def test_routes_never_import_the_engine() -> None:
    found = [
        f"{path}:{node.lineno}: {module}"
        for path, tree in _sources("routes")
        for node in _imports(tree)
        for module in _imported(path, node)
        if _within(module, "piper_desktop.engine", "piper_desktop.ui", "piper_desktop.cli")
    ]
    assert found == []


def test_the_checks_see_a_route_branch() -> None:
    # the walk itself can fail: old main's handoff.py check and a route-name comparison
    tree = ast.parse(
        "if job.route != JobRoute.BROWSER.value: pass\n"
        "if route == 'tiktok_api': pass\n"
        "if route in ('upload_post', 'x'): pass\n"
    )
    assert len(_route_branches("sample.py", tree)) == 3
    assert _imported("engine/x.py", ast.parse("from ..routes.web import spec").body[0]) == [
        "piper_desktop.routes.web"
    ]
