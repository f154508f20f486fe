"""bot/ keeps to its room (LAYOUT: no ORM call outside models/, imports one way, no module over 450 lines)."""

import ast
from pathlib import Path

import pytest

BOT = Path(__file__).resolve().parent.parent / "bot"
MODULES = sorted(BOT.rglob("*.py"))
QUERY_API = {
    "select",
    "get",
    "get_or_none",
    "get_by_id",
    "get_or_create",
    "create",
    "insert",
    "insert_many",
    "update",
    "delete",
    "delete_by_id",
    "raw",
    "atomic",
    "execute",
    "save",
    "delete_instance",
    "bulk_create",
}


def _model_names(tree):
    """Names a module imported from models.tables.* and models.base (tables, and the database handle)."""
    names = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.ImportFrom)
            and node.module
            and node.module.startswith(("models.tables", "models.base"))
        ):
            names |= {alias.asname or alias.name for alias in node.names}
    return names


def _root(node):
    """The name a chain of calls and attributes starts from (`Report` in Report.update(...).where(...).execute())."""
    while isinstance(node, ast.Call | ast.Attribute):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(BOT.parent)))
def test_no_orm_call_in_bot(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    models = _model_names(tree)
    calls = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in QUERY_API):
            continue
        peewee_save = node.func.attr == "save" and any(k.arg == "only" for k in node.keywords)
        on_a_row = isinstance(node.func.value, ast.Attribute) and node.func.value.attr in ("user", "enterprise")
        if (
            _root(node.func.value) in models
            or peewee_save
            or (on_a_row and node.func.attr in ("save", "delete_instance"))
        ):
            calls.append(f"{ast.unparse(node.func)} (line {node.lineno})")
    assert not calls, f"ORM calls in {path.name}: {calls}; add a method beside the table in models/tables/"
    assert "db" not in models and "peewee" not in path.read_text(encoding="utf-8")


def test_the_check_sees_an_orm_call():
    tree = ast.parse("from models.tables.reports import Report\nReport.update(x=1).where(Report.id == 2).execute()")
    call = next(n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "attr", "") == "execute")
    assert _root(call.func.value) in _model_names(tree)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(BOT.parent)))
def test_imports_point_one_way_and_modules_stay_short(path):
    text = path.read_text(encoding="utf-8")
    assert "import flask" not in text and "from flask" not in text and "from webhooks" not in text
    assert len(text.splitlines()) <= 450
