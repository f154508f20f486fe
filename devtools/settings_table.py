"""The README's configuration table, generated from config.SETTINGS (issue 15: one source of truth for the settings).

    .venv/bin/python -m devtools.settings_table            # print the table
    .venv/bin/python -m devtools.settings_table --write    # rewrite it in README.md, between the markers

tests/test_config_table.py fails when README.md holds another table than this prints, and when docs/CONTRACT.md §1
lists other settings (or other defaults) than config.SETTINGS says. Consecutive settings with the same type, meaning
and default share a row.
"""

import sys
from pathlib import Path

from config import SAME, SETTINGS

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
BEGIN = "<!-- settings: made by `python -m devtools.settings_table --write` from config.SETTINGS; edit them there -->"
END = "<!-- /settings -->"


def _value(value):
    return "unset" if value is None else f"`{value}`"


def default_text(setting):
    """The default as the table words it: `shown`, or the value(s) (development's, then production's)."""
    if setting.shown:
        return setting.shown
    production = "required" if setting.required else _value(setting.default)
    if setting.dev is SAME:
        return f"{production} in production" if setting.required else production
    return f"{_value(setting.dev)} in development mode; {production} otherwise"


def rows(settings=SETTINGS):
    """[(names, type, meaning, default)], consecutive settings alike merged."""
    out = []
    for s in settings:
        row = (s.type.name, s.meaning, default_text(s))
        if out and out[-1][1:] == row:
            out[-1][0].append(s.name)
        else:
            out.append(([s.name], *row))
    return out


def table(settings=SETTINGS):
    """The markdown table, one line a row."""
    lines = ["| variable | type | meaning | default |", "| --- | --- | --- | --- |"]
    for names, kind, meaning, default in rows(settings):
        lines.append(f"| {', '.join(f'`{n}`' for n in names)} | {kind} | {meaning} | {default} |")
    return "\n".join(lines)


def readme_block(text):
    """The part of README `text` between the markers (without them); ValueError when they are missing."""
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    return text[start:end].strip("\n")


def write(path=README):
    text = path.read_text(encoding="utf-8")
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    path.write_text(text[:start] + "\n" + table() + "\n" + text[end:], encoding="utf-8")


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        write()
    else:
        print(table())
