"""The layout's rules, checked by reading the source (issue 15; README, "The parts and what may import what").

    .venv/bin/python -m devtools.layout        # print every breach; exit 1 when there is one

- ORM calls (queries and writes on a table, transactions) live in models/: elsewhere only commands/demo.py (the
  synthetic data set's bulk writes) may make them;
- no production module is over MAX_LINES lines;
- imports point one way (ALLOWED below): nothing imports upwards, production never imports devtools/ or tests/;
- every document the code or the README cites (docs/*.md) exists.

The checks are plain functions over the source text (ast), so tests/test_layout.py runs them too.
"""

import ast
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = ("app.py", "config.py", "runtime.py", "bot", "webhooks", "models", "jobs", "commands")
MAX_LINES = 450
ORM_METHODS = {
    "select", "get", "get_or_none", "get_by_id", "get_or_create", "create", "insert", "insert_many", "update",
    "delete", "delete_by_id", "replace", "bulk_create", "bulk_update", "raw",
}
DB_METHODS = {"atomic", "execute_sql", "transaction", "create_tables", "drop_tables", "cursor"}
ORM_ALLOWED = ("models/", "commands/demo.py")
# Which top-level parts may import which (the README's picture). runtime.py is plumbing every process part uses.
ALLOWED = {
    "models": {"models"},
    "bot": {"bot", "models", "jobs", "runtime", "config"},
    "jobs": {"jobs", "models", "runtime", "bot", "config"},  # jobs compose owners' texts from bot.texts only
    "webhooks": {"webhooks", "bot", "models", "jobs", "runtime", "config"},
    "commands": {"commands", "models", "jobs", "bot", "runtime", "config"},
    "runtime": {"runtime"},
    "config": {"config"},
    "app": {"app", "config", "runtime", "models", "webhooks", "commands", "jobs"},  # the factory wires every part
}
JOBS_FROM_BOT = {"bot.texts", "bot.menu"}
DOC_CITATION = re.compile(r"docs/([A-Z][A-Z0-9_-]*\.md)")


def production_files(root=ROOT):
    """Every production Python file, relative to the root."""
    files = []
    for part in PRODUCTION:
        path = root / part
        files += [path] if path.is_file() else sorted(path.rglob("*.py"))
    return [f for f in files if "__pycache__" not in f.parts]


def _part(path, root):
    rel = path.relative_to(root)
    return rel.parts[0].removesuffix(".py")


def _model_names(tree):
    """Names bound by `from models.tables… import X` (the tables) in a module."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("models.tables"):
            names |= {a.asname or a.name for a in node.names if a.name[:1].isupper()}
    return names


def orm_calls(path, root=ROOT):
    """[(line, text)] of the ORM calls in one file: Table.select(...), Table.create(...), db.atomic() …"""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    models = _model_names(tree)
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        target, method = node.func.value, node.func.attr
        if isinstance(target, ast.Name) and target.id in models and method in ORM_METHODS:
            found.append((node.lineno, f"{target.id}.{method}"))
        elif isinstance(target, ast.Name) and target.id == "db" and method in DB_METHODS:
            found.append((node.lineno, f"db.{method}"))
    return found


def orm_breaches(root=ROOT):
    """ORM calls outside models/ (and the allowed demo data)."""
    out = []
    for path in production_files(root):
        rel = str(path.relative_to(root))
        if rel.startswith(ORM_ALLOWED):
            continue
        out += [f"{rel}:{line}: ORM call {text} outside models/" for line, text in orm_calls(path, root)]
    return out


def size_breaches(root=ROOT, limit=MAX_LINES):
    """Production modules over `limit` lines."""
    return [f"{p.relative_to(root)}: {n} lines (over {limit})" for p in production_files(root)
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > limit]


def _imports(tree):
    """(line, dotted names) of each import; `from a import b` counts as a.b (b may be a module)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield node.lineno, [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, [f"{node.module}.{a.name}" for a in node.names]


def import_breaches(root=ROOT):
    """Imports against the direction of ALLOWED, of devtools/ or tests/ from production, and of Flask in models/ or
    bot/."""
    out = []
    for path in production_files(root):
        part, rel = _part(path, root), str(path.relative_to(root))
        for line, modules in _imports(ast.parse(path.read_text(encoding="utf-8"))):
            for module in modules:
                top = module.split(".")[0]
                if top in ("devtools", "tests", "bench"):
                    out.append(f"{rel}:{line}: production imports {module}")
                elif module.startswith("werkzeug.security."):
                    continue  # password hashing: a utility of Flask's toolkit, no request or app in it
                elif top in ("flask", "flask_wtf", "werkzeug") and part in ("models", "bot", "jobs"):
                    out.append(f"{rel}:{line}: {part}/ imports {module}")
                elif top in ALLOWED and top not in ALLOWED.get(part, {top}):
                    out.append(f"{rel}:{line}: {part}/ imports {module} (upwards)")
                elif part == "jobs" and top == "bot" and not any(module.startswith(m) for m in JOBS_FROM_BOT):
                    out.append(f"{rel}:{line}: jobs/ imports {module} (only the owners' texts and the menu)")
    return out


def document_breaches(root=ROOT):
    """Documents cited as docs/NAME.md in code or the README that do not exist."""
    sources = production_files(root) + [root / "README.md", *sorted((root / "templates").rglob("*.html"))]
    missing = set()
    for path in sources:
        for name in DOC_CITATION.findall(path.read_text(encoding="utf-8")):
            if not (root / "docs" / name).exists():
                missing.add(f"{path.relative_to(root)}: cites docs/{name}, which does not exist")
    return sorted(missing)


def main():
    breaches = orm_breaches() + size_breaches() + import_breaches() + document_breaches()
    for line in breaches:
        print(line)
    counted = sum(len(orm_calls(p)) for p in production_files())
    outside = len(orm_breaches())
    print(f"ORM calls in production code: {counted}, outside models/ (demo data excepted): {outside}")
    return 1 if breaches else 0


if __name__ == "__main__":
    sys.exit(main())
