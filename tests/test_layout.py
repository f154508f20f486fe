"""devtools/layout.py: the layout's rules hold (README, "The parts and what may import what"), and each check finds
what it is for; every module path the README and docs/ name exists."""

import glob
import re
from pathlib import Path

import pytest

from devtools import layout

ROOT = Path(__file__).resolve().parent.parent

# ORM calls still allowed outside models/, as (file, call): none now (jobs/delivery.py's moved beside the tables). A
# breach that must stay for a while is listed here; test_the_allow_list_holds_only_live_breaches fails once it is gone,
# so an entry cannot outlive its reason.
ORM_ALLOWED_FOR_NOW = set()
BREACH = re.compile(r"^(?P<file>[^:]+):\d+: ORM call (?P<call>\S+) outside models/$")


def _orm_breaches():
    """The ORM breaches as (file, call), line numbers dropped (they move with every edit)."""
    found = set()
    for line in layout.orm_breaches():
        match = BREACH.match(line)
        assert match, f"unexpected breach format: {line}"
        found.add((match["file"], match["call"]))
    return found


def test_no_orm_call_outside_models_but_the_allowed_ones():
    assert _orm_breaches() <= ORM_ALLOWED_FOR_NOW, "add a method beside the table in models/tables/"


def test_the_allow_list_holds_only_live_breaches():
    stale = ORM_ALLOWED_FOR_NOW - _orm_breaches()
    assert not stale, f"no longer breaches, remove from ORM_ALLOWED_FOR_NOW: {sorted(stale)}"


def test_no_production_module_is_over_the_limit():
    assert layout.size_breaches() == []


def test_imports_point_one_way():
    assert layout.import_breaches() == []


def test_every_cited_document_exists():
    assert layout.document_breaches() == []


# -- each check finds what it is for (a tree of its own) -------------------------------------------------------------


@pytest.fixture
def tree(tmp_path):
    """A minimal repository: one clean module per part, a README and one document."""
    for name in ("models/tables/things.py", "jobs/work.py", "bot/talk.py", "webhooks/http.py", "commands/demo.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text('"""Clean."""\n', encoding="utf-8")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "CONTRACT.md").write_text("# contract\n", encoding="utf-8")
    (tmp_path / "README.md").write_text("See docs/CONTRACT.md.\n", encoding="utf-8")
    (tmp_path / "templates").mkdir()
    return tmp_path


def test_a_clean_tree_has_no_breach(tree):
    assert (layout.orm_breaches(tree), layout.size_breaches(tree), layout.import_breaches(tree),
            layout.document_breaches(tree)) == ([], [], [], [])


def test_an_orm_call_outside_models_is_found_and_demo_data_is_not(tree):
    query = "from models.tables.things import Thing\n\ndef f():\n    return Thing.select().where(Thing.id == 1)\n"
    (tree / "jobs" / "work.py").write_text(query, encoding="utf-8")
    (tree / "commands" / "demo.py").write_text(query, encoding="utf-8")
    (tree / "models" / "tables" / "things.py").write_text(query, encoding="utf-8")
    (tree / "bot" / "talk.py").write_text("from models.base import db\n\nwith db.atomic():\n    pass\n",
                                          encoding="utf-8")
    assert sorted(layout.orm_breaches(tree)) == ["bot/talk.py:3: ORM call db.atomic outside models/",
                                                 "jobs/work.py:4: ORM call Thing.select outside models/"]


def test_a_long_module_is_found(tree):
    (tree / "jobs" / "work.py").write_text("x = 1\n" * (layout.MAX_LINES + 1), encoding="utf-8")
    assert layout.size_breaches(tree) == [f"jobs/work.py: {layout.MAX_LINES + 1} lines (over {layout.MAX_LINES})"]


def test_an_upward_import_is_found(tree):
    (tree / "models" / "tables" / "things.py").write_text("from jobs import work\n", encoding="utf-8")
    (tree / "bot" / "talk.py").write_text("import flask\nfrom webhooks.http import bp\n", encoding="utf-8")
    (tree / "jobs" / "work.py").write_text("from bot.engine import handle\nfrom bot.texts import X\n", encoding="utf-8")
    (tree / "webhooks" / "http.py").write_text("from devtools import doubles\n", encoding="utf-8")
    assert sorted(layout.import_breaches(tree)) == [
        "bot/talk.py:1: bot/ imports flask",
        "bot/talk.py:2: bot/ imports webhooks.http.bp (upwards)",
        "jobs/work.py:1: jobs/ imports bot.engine.handle (only the owners' texts and the menu)",
        "models/tables/things.py:1: models/ imports jobs.work (upwards)",
        "webhooks/http.py:1: production imports devtools.doubles",
    ]


def test_a_missing_document_is_found(tree):
    (tree / "jobs" / "work.py").write_text('"""See docs/PDF.md B.1."""\n', encoding="utf-8")
    (tree / "templates" / "page.html").write_text("<!-- docs/WECHAT.md §2 -->\n", encoding="utf-8")
    assert layout.document_breaches(tree) == ["jobs/work.py: cites docs/PDF.md, which does not exist",
                                              "templates/page.html: cites docs/WECHAT.md, which does not exist"]


# -- the README and docs/ name modules that exist ----------------------------------------------------------------------

PARTS = "app|config|runtime"
FOLDERS = "bot|webhooks|models|jobs|commands|devtools|bench|templates|tests|static|docs"
PATH = re.compile(rf"(?<![\w/.-])((?:{PARTS})\.py|(?:{FOLDERS})/[\w./*-]*[\w*/])")
LOCAL_ONLY = {"bench/.venv-peers"}  # made by bench/setup.sh, never committed


def cited_paths(text):
    """The repository paths a Markdown text names (`models/tables/reports.py`, `templates/report/*.html`, `jobs/`)."""
    return {m.rstrip("/.") for m in PATH.findall(text)} - LOCAL_ONLY


def test_cited_paths_finds_paths_and_globs():
    text = "`jobs/trace.py`, `templates/report/*.html`, `webhooks/staff/`, `runtime.py`, not a/jobs/x.py"
    assert cited_paths(text) == {"jobs/trace.py", "templates/report/*.html", "webhooks/staff", "runtime.py"}


@pytest.mark.parametrize("document", ["README.md", *sorted(p.name for p in (ROOT / "docs").glob("*.md"))])
def test_every_module_path_a_document_names_exists(document):
    path = ROOT / document if document == "README.md" else ROOT / "docs" / document
    missing = sorted(p for p in cited_paths(path.read_text(encoding="utf-8")) if not glob.glob(str(ROOT / p)))
    assert not missing, f"{document} names paths that do not exist: {missing}"


# -- the README's picture is the checker's --------------------------------------------------------------------------

PART_NAMES = {"`models/`": "models", "`bot/`": "bot", "`jobs/`": "jobs", "`webhooks/`": "webhooks",
              "`commands/`": "commands", "`runtime.py`": "runtime", "`config.py`": "config", "`app.py`": "app"}
PART_TOKEN = re.compile("|".join(re.escape(token) for token in PART_NAMES))


def readme_import_table():
    """{part: the parts it may import} from the README's table under "The parts and what may import what"."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("The parts and what may import what", 1)[1].split("\n## ", 1)[0]
    table = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 2 or not line.startswith("| `"):
            continue
        part = PART_NAMES[PART_TOKEN.match(cells[0])[0]]
        table[part] = {PART_NAMES[t] for t in PART_TOKEN.findall(cells[1])} | {part}
    return table


def test_the_readme_table_is_the_checkers_rules():
    assert readme_import_table() == layout.ALLOWED
    assert "`bot.texts` and `bot.menu`" in (ROOT / "README.md").read_text(encoding="utf-8")
    assert {"bot.texts", "bot.menu"} == layout.JOBS_FROM_BOT
