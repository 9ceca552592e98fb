"""The layering rules of DEVELOPERS.md, checked on the source itself."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


# What each layer never imports, anywhere in a module (a function's import too): the domain
# (sqis/) and the contract (schemas/) know nothing of Prefect or the layers above them; the
# task layer (tasks/) never reaches up into the flows.
NEVER_IMPORTS: dict[str, set[str]] = {
    "sqis": {"prefect", "prefect_dask", "tasks", "flows", "sqis_cli"},
    "schemas": {"prefect", "prefect_dask", "tasks", "flows", "sqis_cli"},
    "tasks": {"flows", "sqis_cli"},
}


@pytest.mark.parametrize("package", sorted(NEVER_IMPORTS))
def test_each_layer_never_imports_the_layers_above_it(package: str) -> None:
    offenders = {}
    for path in (ROOT / package).rglob("*.py"):
        bad = _imports(path) & NEVER_IMPORTS[package]
        if bad:
            offenders[str(path.relative_to(ROOT))] = sorted(bad)
    assert offenders == {}


# The packages whose modules must not import each other in a circle.
ACYCLIC = ("sqis", "schemas", "tasks", "flows")


def _module_names() -> dict[str, Path]:
    out = {}
    for package in ACYCLIC:
        for path in sorted((ROOT / package).rglob("*.py")):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            out[name.removesuffix(".__init__")] = path
    return out


def _top_level_statements(body: list[ast.stmt]) -> list[ast.stmt]:
    """The statements run when the module is imported: the module's own, and those in its
    top-level ``if``/``try``/``with`` blocks (not under ``if TYPE_CHECKING:``, which never
    runs; not in functions or classes' methods, which run when called)."""
    out: list[ast.stmt] = []
    for node in body:
        if isinstance(node, ast.If):
            test = node.test
            if isinstance(test, ast.Name | ast.Attribute) and "TYPE_CHECKING" in ast.unparse(test):
                out += _top_level_statements(node.orelse)
                continue
            out += _top_level_statements(node.body) + _top_level_statements(node.orelse)
        elif isinstance(node, ast.Try):
            for part in (node.body, node.orelse, node.finalbody, *(h.body for h in node.handlers)):
                out += _top_level_statements(part)
        elif isinstance(node, ast.With):
            out += _top_level_statements(node.body)
        elif isinstance(node, ast.ClassDef):
            out += _top_level_statements(node.body)  # a class body runs at import
        else:
            out.append(node)
    return out


def _module_imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The modules of ``known`` that module ``name`` imports when it is imported: ``import
    a.b``; ``from a import b`` (module ``a.b`` when ``b`` is a submodule, else ``a``);
    relative imports resolved against the module's package."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: set[str] = set()
    for node in _top_level_statements(tree.body):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name in known)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            for a in node.names:
                sub = f"{module}.{a.name}"
                if sub in known:
                    out.add(sub)
                elif module in known:
                    out.add(module)
    out.discard(name)
    return out


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_import_cycle_finder_finds_cycles() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert _cycles(graph) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_among_the_packages_modules() -> None:
    """No module of sqis/, schemas/, tasks/ or flows/ imports, at import time, a module
    that imports it back (directly or through others): each has one place in the layers,
    and none relies on a half-initialised module (a function's import, run when called,
    is not a cycle)."""
    known = _module_names()
    graph = {name: _module_imports(name, path, known) for name, path in known.items()}
    assert _cycles(graph) == []


def test_no_student_ids_or_secrets_are_printed_by_the_domain():
    """The domain never prints: it returns frames and raises errors (logging is the flows')."""
    offenders = []
    for path in (ROOT / "sqis").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "print":
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


def test_every_sqis_exception_derives_from_sqis_error():
    """One base (``sqis.errors.SqisError``: exit code and user message): the command maps
    it once instead of listing classes by hand."""
    import importlib
    import inspect

    from sqis.errors import SqisError

    offenders = []
    for package in ("sqis", "schemas", "tasks", "flows", "sqis_cli"):
        for path in sorted((ROOT / package).rglob("*.py")):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            name = name.removesuffix(".__init__")
            if "migrations" in name.split("."):
                continue
            module = importlib.import_module(name)
            for obj in vars(module).values():
                if (
                    inspect.isclass(obj)
                    and issubclass(obj, Exception)
                    and obj.__module__ == name
                    and not issubclass(obj, SqisError)
                ):
                    offenders.append(f"{name}.{obj.__qualname__}")
    assert offenders == []
