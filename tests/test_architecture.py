"""The layering rules of DEVELOPERS.md, checked on the source itself."""

import ast
from pathlib import Path

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


def test_domain_package_never_imports_prefect_or_the_orchestration_layers():
    offenders = {}
    for path in (ROOT / "sqis").rglob("*.py"):
        bad = _imports(path) & {"prefect", "prefect_dask", "tasks", "flows", "sqis_cli"}
        if bad:
            offenders[str(path.relative_to(ROOT))] = sorted(bad)
    assert offenders == {}


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
