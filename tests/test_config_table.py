"""config.SETTINGS, the one table of the settings (issue 15, item 5): typed and checked once at app creation, never
re-defaulted at a call site, and the source of the README's table and of docs/CONTRACT.md §1's lists."""

import ast
import re

import pytest
from flask import Flask
from test_config import bare_env  # noqa: F401 - the fixture

import config
from app import create_app
from config import BY_NAME, DERIVED, EXTENSION, ORIGINAL, SAME, SETTINGS, ConfigError, load_config
from devtools import settings_table
from devtools.layout import ROOT, production_files

CONFIGS = ("config", "cfg")  # the names a settings mapping goes by: config, app.config, rt.config, cfg


def _is_config(node):
    name = node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", "")
    return name in CONFIGS


def _uses():
    """(path, line, name, how) of every constant key of a settings mapping in production code: how is "read",
    "written" (assigned or setdefault: Flask's own keys, set by code), or "defaulted" (`.get("X", default)`)."""
    for path in production_files():
        rel = str(path.relative_to(ROOT))
        tree = ast.parse(path.read_text(encoding="utf-8"))
        written = {id(t) for node in ast.walk(tree) if isinstance(node, ast.Assign) for t in node.targets}
        for node in ast.walk(tree):
            if isinstance(node, ast.Subscript) and _is_config(node.value) and isinstance(node.slice, ast.Constant):
                yield rel, node.lineno, node.slice.value, "written" if id(node) in written else "read"
            elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and _is_config(node.func.value)
                  and node.func.attr in ("get", "setdefault") and node.args
                  and isinstance(node.args[0], ast.Constant)):
                how = "written" if node.func.attr == "setdefault" else "defaulted" if len(node.args) > 1 else "read"
                yield rel, node.lineno, node.args[0].value, how


def test_no_call_site_defaults_a_setting_again():
    """The 25 `config.get("X", default)` calls repeated defaults config.py already set (and could disagree)."""
    assert [f"{path}:{line} {name}" for path, line, name, how in _uses() if how == "defaulted"] == []


def test_every_setting_read_is_in_the_table():
    """A misspelt name is a KeyError at the first request, not a silent default: every name read is declared."""
    uses = list(_uses())
    written = {name for _, _, name, how in uses if how == "written"}  # Flask's own keys, set by code
    read = {name for _, _, name, how in uses if how == "read"}
    flask_own = set(Flask.default_config)  # Flask's own keys (SECRET_KEY_FALLBACKS), with Flask's defaults
    assert read - set(BY_NAME) - set(DERIVED) - written - flask_own == set()
    assert {"WECHAT_MAX_SKEW", "GUIDE_CONTACT"} <= read and "PERMANENT_SESSION_LIFETIME" in written  # found at all


def test_the_table_is_whole():
    names = [s.name for s in SETTINGS]
    assert len(names) == len(set(names)) and not set(names) & set(DERIVED)
    for setting in SETTINGS:
        assert setting.meaning and "|" not in setting.meaning and setting.contract in (ORIGINAL, EXTENSION)
        assert callable(setting.default) <= bool(setting.shown)  # a computed default is worded for the docs
        for default in (setting.default, setting.dev):
            if isinstance(default, str):  # written as in the environment, so it parses as its type
                setting.type.parse(default)
    assert config.REQUIRED == ("WECHAT_APPID", "WECHAT_SECRET", "WECHAT_TOKEN", "SECRET_KEY", "PUBLIC_BASE_URL",
                               "GUIDE_CONTACT", "SIGNING_KEY", "SM2_SIGNING_KEY", "PDF_SIGNING_CERT",
                               "PDF_SIGNING_KEY", "PDF_SIGNING_CHAIN")


def test_the_readme_table_is_the_one_generated_from_the_table():
    """Run `python -m devtools.settings_table --write` after changing config.SETTINGS."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert settings_table.readme_block(readme) == settings_table.table()
    for setting in SETTINGS:
        assert f"`{setting.name}`" in settings_table.readme_block(readme)


def _contract_tables():
    """{heading: {name: default cell}} of the two settings tables of docs/CONTRACT.md §1."""
    text = (ROOT / "docs" / "CONTRACT.md").read_text(encoding="utf-8")
    section = text[text.index("## §1."):text.index("## §2.")]
    tables, current = {}, None
    for line in section.splitlines():
        if line.startswith("### "):
            current = tables.setdefault(line[4:].strip(), {})
        elif line.startswith("| `") and current is not None:
            cells = [c.strip() for c in line.strip("|").split(" | ")]
            for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", cells[0]):
                current[name] = cells[-1]
    return tables


def test_the_contract_lists_each_setting_in_its_table_with_its_default():
    tables = _contract_tables()
    listed = {ORIGINAL: tables["Settings of the original contract"],
              EXTENSION: tables["Settings this project added [ext]"]}
    for contract, rows in listed.items():
        assert set(rows) == {s.name for s in SETTINGS if s.contract == contract}, contract
    for setting in SETTINGS:
        cell = listed[setting.contract][setting.name]
        if setting.required:
            assert "required" in cell, setting.name
        elif isinstance(setting.default, str) and not setting.shown:
            assert setting.default in cell, (setting.name, setting.default, cell)


@pytest.mark.parametrize(("name", "value"), [
    ("WECHAT_MAX_SKEW", "five minutes"), ("REPORT_VALID_DAYS", "-1"), ("REPORT_VALID_DAYS", "30.5"),
    ("WECHAT_REPLY_WAIT", "nan"), ("VERIFY_OAUTH", "maybe"), ("WECHAT_ACCEPT_PLAINTEXT", "2"),
    ("PDF_SIGNING_CERT", "-----BEGIN CERTIFICATE-----"), ("VERIFY_MISS_LIMIT", "lots"), ("DATABASE_URL", "mysql://db"),
    ("REDIS_URL", "127.0.0.1:6379"), ("WECOM_ROBOT_HOSTS", "https://qyapi.weixin.qq.com/"),
    ("WECHAT_BUSY_BACKOFF", "0.2,soon"), ("SMS_BACKEND", "pigeon"), ("WECHAT_API_BASE", "ftp://api.weixin.qq.com"),
    ("PUBLIC_BASE_URL", "hegui.example.cn"), ("LOG_FORMAT", "xml"),
])
def test_a_malformed_value_stops_the_start_naming_the_setting(bare_env, tmp_path, name, value):  # noqa: F811
    bare_env.setenv("HEGUI_ENV", "development")
    bare_env.setenv(name, value)
    with pytest.raises(ConfigError, match=rf"^{name} must be "):
        load_config(tmp_path)


def test_values_are_typed_once(bare_env, tmp_path):  # noqa: F811
    bare_env.setenv("HEGUI_ENV", "development")
    for name, value in {"WECHAT_ACCEPT_PLAINTEXT": "Yes", "VERIFY_OAUTH": "off",
                        "WECOM_ROBOT_HOSTS": "QYAPI.x.cn, b.cn", "WECHAT_BUSY_BACKOFF": "0.1, 1",
                        "WECHAT_REPLY_WAIT": "2.5", "PROXY_COUNT": " 2 ",
                        "PUBLIC_BASE_URL": "https://credit.example.cn/", "PDF_SEAL_IMAGE": "~/seal.png"}.items():
        bare_env.setenv(name, value)
    cfg = load_config(tmp_path)
    assert (cfg["WECHAT_ACCEPT_PLAINTEXT"], cfg["VERIFY_OAUTH"]) == (True, False)
    assert cfg["WECOM_ROBOT_HOSTS"] == ("qyapi.x.cn", "b.cn") and cfg["WECHAT_BUSY_BACKOFF"] == (0.1, 1.0)
    assert (cfg["WECHAT_REPLY_WAIT"], cfg["PROXY_COUNT"]) == (2.5, 2)
    assert cfg["PUBLIC_BASE_URL"] == "https://credit.example.cn" and not cfg["PDF_SEAL_IMAGE"].startswith("~")
    assert set(BY_NAME) <= set(cfg)  # every setting present: a call site reads config["X"], None when unset
    assert cfg["SIGNING_KEY"] is None and cfg["WECOM_ROBOT_URL"] is None


def test_values_given_in_code_are_checked_like_the_environment(bare_env, tmp_path):  # noqa: F811
    bare_env.setenv("HEGUI_ENV", "development")
    cfg = load_config(tmp_path, {"WECHAT_MAX_SKEW": "5", "WECOM_RATE_WINDOW": 1, "TESTING": True,
                                 "WECHAT_OAUTH_BASE": None})
    assert (cfg["WECHAT_MAX_SKEW"], cfg["WECOM_RATE_WINDOW"], cfg["TESTING"]) == (5, 1.0, True)
    assert cfg["WECHAT_OAUTH_BASE"] is None  # None given: unset on purpose, not the development double
    for name, value in (("WECHAT_MAX_SKEW", 1.5), ("VERIFY_OAUTH", 1), ("STAFF_IDLE_MINUTES", True),
                        ("WECOM_RATE_WINDOW", -1)):
        with pytest.raises(ConfigError, match=f"^{name} must be "):
            load_config(tmp_path, {name: value})


def test_the_app_refuses_to_be_created_with_a_malformed_setting(bare_env, tmp_path):  # noqa: F811
    bare_env.setenv("HEGUI_ENV", "development")
    bare_env.setenv("STAFF_IDLE_MINUTES", "half an hour")
    with pytest.raises(ConfigError, match="STAFF_IDLE_MINUTES"):
        create_app({"INSTANCE_PATH": str(tmp_path)})


def test_development_defaults_differ_only_where_the_table_says(bare_env, tmp_path):  # noqa: F811
    production = load_config(tmp_path / "p")
    bare_env.setenv("HEGUI_ENV", "development")
    development = load_config(tmp_path / "d")
    differ = {s.name for s in SETTINGS if production[s.name] != development[s.name]}
    assert differ == {s.name for s in SETTINGS if s.dev is not SAME} | {"HEGUI_ENV", "DATABASE_URL"}
