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


def _is_type_checking(node: ast.If) -> bool:
    """``if TYPE_CHECKING:`` (or ``typing.TYPE_CHECKING``): a block that never runs."""
    test = node.test
    return isinstance(test, ast.Name | ast.Attribute) and "TYPE_CHECKING" in ast.unparse(test)


def _runtime_imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement that can run: the module's own, those in its blocks, classes
    and functions (a function's import runs when it is called, and a module it reaches
    that imports the function's module back is a circle all the same); not those under
    ``if TYPE_CHECKING:``, which never runs (its ``else`` does)."""
    out: list[ast.Import | ast.ImportFrom] = []
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            out.append(node)
        elif isinstance(node, ast.If) and _is_type_checking(node):
            for part in node.orelse:
                out += _runtime_imports(ast.Module(body=[part], type_ignores=[]))
        else:
            out += _runtime_imports(node)
    return out


def _module_imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The modules of ``known`` that module ``name`` imports, at import time or in a function
    (:func:`_runtime_imports`): ``import a.b``; ``from a import b`` (module ``a.b`` when
    ``b`` is a submodule, else ``a``); relative imports resolved against the module's
    package."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: set[str] = set()
    for node in _runtime_imports(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name in known)
        else:
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


def test_the_imports_counted_are_those_that_can_run(tmp_path: Path) -> None:
    """A function's import counts (it runs when the function is called), a method's and a
    block's too; one under ``if TYPE_CHECKING:`` does not (its ``else`` does)."""
    source = (
        "from typing import TYPE_CHECKING\n"
        "import a\n"
        "if TYPE_CHECKING:\n"
        "    import b\n"
        "else:\n"
        "    import c\n"
        "def f():\n"
        "    from d import e\n"
        "class K:\n"
        "    def g(self):\n"
        "        try:\n"
        "            from . import h\n"
        "        except ImportError:\n"
        "            pass\n"
    )
    path = tmp_path / "m.py"
    path.write_text(source, encoding="utf-8")
    known = {n: path for n in ("a", "b", "c", "d", "d.e", "p", "p.h", "p.m")}
    assert _module_imports("p.m", path, known) == {"a", "c", "d.e", "p.h"}


def test_no_import_cycle_among_the_packages_modules() -> None:
    """No module of sqis/, schemas/, tasks/ or flows/ imports a module that imports it back
    (directly or through others), whether at import time or in a function: each has one
    place in the layers, none relies on a half-initialised module, and none hides a circle
    in a function's import (which runs when the function is called). An import under ``if
    TYPE_CHECKING:`` never runs and does not count: a type named in an annotation is not a
    dependency of the code."""
    known = _module_names()
    graph = {name: _module_imports(name, path, known) for name, path in known.items()}
    assert _cycles(graph) == []


# Above the rules and the renderers of sqis/: the stage functions of a year (and of an
# Oversight meeting), then the order of the stages, then the run. The rules, renderers, store
# and schemas never import these; a stage module never imports the order or the run.
STAGE_MODULES = (
    "sqis.year_inputs",
    "sqis.index_stage",
    "sqis.determinations",
    "sqis.report_reads",
    "sqis.year_outputs",
    "sqis.oversight",
)
RUN_MODULES = ("sqis.year_stages", "sqis.pipeline")


def test_the_stages_and_the_run_sit_above_the_rules() -> None:
    """``sqis.pipeline`` (the run: ``run_year``, ``PlainSteps``) imports ``sqis.year_stages``
    (the order), which imports the stage modules, which import the rules, renderers and the
    store; nothing imports upwards: no rule, renderer, store or schema module imports a
    stage module or the run, and no stage module imports the order or the run (their
    callers above are ``tasks/``, ``flows/``, the command and the tests)."""
    known = _module_names()
    assert set(STAGE_MODULES + RUN_MODULES) <= set(known)
    offenders = {}
    for name, path in known.items():
        if name.split(".")[0] not in ("sqis", "schemas") or name in RUN_MODULES:
            continue
        above = RUN_MODULES if name in STAGE_MODULES else STAGE_MODULES + RUN_MODULES
        bad = _module_imports(name, path, known) & set(above)
        if bad:
            offenders[name] = sorted(bad)
    assert offenders == {}
    assert "sqis.pipeline" not in _module_imports(
        "sqis.year_stages", known["sqis.year_stages"], known
    )


# A module over this many lines says why it is one module (issue 22: "no module over 500 lines
# in sqis/ except with a stated reason in its docstring").
MAX_LINES = 500
WHY_ONE_MODULE = "Why one module over 500 lines:"


def test_every_long_domain_module_says_why_it_is_one_module() -> None:
    """Every module of sqis/ over ``MAX_LINES`` lines has a paragraph of its docstring that
    starts ``Why one module over 500 lines:``; the others hold one concept each."""
    offenders = []
    for path in sorted((ROOT / "sqis").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if len(text.splitlines()) <= MAX_LINES:
            continue
        doc = ast.get_docstring(ast.parse(text)) or ""
        paragraphs = [p.strip() for p in doc.split("\n\n")]
        if not any(p.startswith(WHY_ONE_MODULE) for p in paragraphs):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


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
