"""The package's modules as a whole: imports go one way (no circle between modules, no import inside
a function but of an optional dependency), and the release is read without importing the package."""

from __future__ import annotations

import ast
import pathlib

import livechat_analytics

PACKAGE = pathlib.Path(livechat_analytics.__file__).parent
#: Imported where they are used, as a user may not have installed them.
OPTIONAL = {"secantus", "redis"}


def module_name(path: pathlib.Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imported(name: str, node: ast.ImportFrom | ast.Import) -> set[str]:
    """The package's modules an import statement in module ``name`` loads by name."""
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names if alias.name in MODULES}
    package = name if MODULES[name].name == "__init__.py" else name.rpartition(".")[0]
    for _ in range(node.level - 1):
        package = package.rpartition(".")[0]
    relative = f"{package}.{node.module}" if node.module else package
    base = relative if node.level else node.module or ""
    found = {f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in MODULES}
    named_only = any(f"{base}.{alias.name}" not in MODULES for alias in node.names)
    return found | ({base} if base in MODULES and named_only else set())


def graph() -> dict[str, set[str]]:
    """Each module's imports of other modules of the package, at its top level; a package's own
    submodules that its ``__init__`` imports are not counted against the submodules' imports of it."""
    edges: dict[str, set[str]] = {}
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        targets: set[str] = set()
        for node in tree.body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                targets |= imported(name, node)
        edges[name] = {target for target in targets if target != name and not name.startswith(target + ".")}
    return edges


def test_no_module_imports_one_that_imports_it_back():
    edges = graph()
    circles = []

    def walk(name: str, trail: list[str]) -> None:
        for target in sorted(edges[name]):
            if target in trail:
                circles.append([*trail[trail.index(target) :], target])
            elif target not in seen:
                seen.add(target)
                walk(target, [*trail, target])

    for start in sorted(edges):
        seen = {start}
        walk(start, [start])
    assert circles == []


def test_no_import_inside_a_function_but_of_an_optional_dependency():
    late = []
    for name, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for inner in ast.walk(node):
                    if isinstance(inner, ast.Import):
                        late += [f"{name}: {a.name}" for a in inner.names if a.name not in OPTIONAL]
                    elif isinstance(inner, ast.ImportFrom) and (inner.level or inner.module not in OPTIONAL):
                        late.append(f"{name}: from {'.' * inner.level}{inner.module or ''}")
    assert late == []


def test_the_extension_imports_no_command():
    assert "livechat_analytics.cli" not in graph()["livechat_analytics.extension"]


def test_the_release_is_read_from_a_module_that_imports_nothing():
    # setup.cfg reads it there without importing the package, and so do the package's own modules.
    tree = ast.parse(MODULES["livechat_analytics.version"].read_text(encoding="utf-8"))
    assert not any(isinstance(node, (ast.Import, ast.ImportFrom)) for node in ast.walk(tree))
    setup = (pathlib.Path(__file__).parents[1] / "setup.cfg").read_text(encoding="utf-8")
    assert "version = attr: livechat_analytics.version.__version__" in setup
