"""config.py: development mode only when asked for, production's required settings, PUBLIC_BASE_URL, SECRET_KEY."""

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REDIS_BASE, REDIS_DB

import config
from app import create_app
from config import ROOT, ConfigError, load_config

SETTINGS = ("HEGUI_ENV", "FLASK_DEBUG", "WECHAT_APPID", "WECHAT_SECRET", "WECHAT_TOKEN", "SIGNING_KEY", "SECRET_KEY",
            "PUBLIC_BASE_URL", "WECHAT_AES_KEY", "FLASK_RUN_FROM_CLI", "GUIDE_CONTACT", "SM2_SIGNING_KEY",
            "PDF_SIGNING_CERT", "PDF_SIGNING_KEY", "PDF_SIGNING_CHAIN", "PDF_TSA_URL", "PDF_SEAL_IMAGE")
PRODUCTION = {"WECHAT_APPID": "wx1234567890abcdef", "WECHAT_SECRET": "s", "WECHAT_TOKEN": "t", "SIGNING_KEY": "k",
              "SECRET_KEY": "x", "PUBLIC_BASE_URL": "https://hegui.example.gov.cn",
              "GUIDE_CONTACT": "黑河市信用信息中心 0456-8220000", "SM2_SIGNING_KEY": "a" * 64,
              "PDF_SIGNING_CERT": "/etc/hegui/signer.pem", "PDF_SIGNING_KEY": "/etc/hegui/signer-key.pem",
              "PDF_SIGNING_CHAIN": "/etc/hegui/chain.pem"}
FLASK = str(Path(sys.executable).parent / "flask")


@pytest.fixture
def bare_env(monkeypatch):
    """An environment that asks for nothing: none of the settings below set."""
    for name in SETTINGS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(config, "load_dotenv", lambda *a, **k: None)  # no .env of the developer's in this test
    return monkeypatch


def test_leaving_settings_out_is_production_not_development(bare_env, tmp_path):
    """Issue 13, item 10: without WECHAT_APPID and SECRET_KEY the service signed sessions with a public constant."""
    cfg = load_config(tmp_path)
    assert cfg["DEV_MODE"] is False and cfg["SECRET_KEY"] is None
    assert set(cfg["MISSING_SETTINGS"]) == {"WECHAT_APPID", "WECHAT_SECRET", "WECHAT_TOKEN", "SIGNING_KEY",
                                            "SECRET_KEY", "PUBLIC_BASE_URL", "GUIDE_CONTACT", "SM2_SIGNING_KEY",
                                            "PDF_SIGNING_CERT", "PDF_SIGNING_KEY", "PDF_SIGNING_CHAIN"}
    with pytest.raises(ConfigError, match="WECHAT_APPID.*SECRET_KEY.*PUBLIC_BASE_URL"):
        create_app({"INSTANCE_PATH": str(tmp_path)})  # the web refuses to start


@pytest.mark.parametrize(("name", "value"), [("HEGUI_ENV", "development"), ("HEGUI_ENV", "Development"),
                                             ("FLASK_DEBUG", "1")])
def test_development_mode_when_asked_for(bare_env, tmp_path, name, value):
    bare_env.setenv(name, value)
    cfg = load_config(tmp_path)
    assert cfg["DEV_MODE"] is True and cfg["MISSING_SETTINGS"] == ()


def test_an_unknown_environment_is_refused(bare_env, tmp_path):
    bare_env.setenv("HEGUI_ENV", "staging")
    with pytest.raises(ConfigError, match="HEGUI_ENV"):
        load_config(tmp_path)


def test_development_secret_key_is_random_per_instance_never_a_constant(bare_env, tmp_path):
    bare_env.setenv("HEGUI_ENV", "development")
    first = load_config(tmp_path / "a")["SECRET_KEY"]
    assert first == load_config(tmp_path / "a")["SECRET_KEY"]  # every process of one instance agrees
    assert first != load_config(tmp_path / "b")["SECRET_KEY"] and len(first) == 64
    assert stat.S_IMODE(os.stat(tmp_path / "a" / "secret-key").st_mode) == 0o600
    assert "hegui-development-only" not in (ROOT / "config.py").read_text()


@pytest.mark.parametrize(("url", "ok"), [
    ("https://credit.heihe.gov.cn", True), ("http://127.0.0.1:5000", True), ("http://[::1]:8000", True),
    ("http://localhost:5000", True), ("http://credit.heihe.gov.cn", False), ("http://10.0.0.5", False),
    ("ftp://credit.heihe.gov.cn", False), ("https://credit.heihe.gov.cn/guide?x=1", False), ("credit", False),
])
def test_public_base_url_is_https_unless_its_host_is_a_loopback_address(bare_env, tmp_path, url, ok):
    bare_env.setenv("PUBLIC_BASE_URL", url)
    if ok:
        assert load_config(tmp_path)["PUBLIC_BASE_URL"] == url
    else:
        with pytest.raises(ConfigError, match="PUBLIC_BASE_URL"):
            load_config(tmp_path)


def _flask(tmp_path, *args, **env):
    base = {k: v for k, v in os.environ.items() if k not in SETTINGS}
    base.update(DATABASE_URL=f"sqlite:///{tmp_path / 'prod.db'}", REDIS_URL=f"{REDIS_BASE}/{REDIS_DB}",
                FLASK_APP="app", RQ_QUEUE="test-config", **env)
    return subprocess.run([FLASK, *args], cwd=ROOT, env=base, capture_output=True, text=True, timeout=120)


def test_production_commands_need_only_what_they_use(tmp_path):
    """docs/CONTRACT.md §1: init-db needs the database and Redis; the worker refuses without its settings."""
    assert _flask(tmp_path, "init-db").returncode == 0
    worker = _flask(tmp_path, "worker", "--burst")
    assert worker.returncode != 0 and "production mode requires: WECHAT_APPID" in worker.stderr
    assert _flask(tmp_path, "scheduler", "--once").returncode != 0


def test_menu_push_never_publishes_a_loopback_or_plain_http_origin(tmp_path):
    """Issue 13, item 15: `flask menu push` published http://127.0.0.1:5000/guide."""
    production = {k: v for k, v in PRODUCTION.items() if k != "PUBLIC_BASE_URL"}  # every other required one
    production.update(SIGNING_KEY="unused", SECRET_KEY="k" * 32, WECHAT_API_BASE="http://127.0.0.1:9/cgi-bin/")
    missing = _flask(tmp_path, "menu", "push", **{**production, "PUBLIC_BASE_URL": ""})
    assert missing.returncode != 0 and "PUBLIC_BASE_URL" in missing.stderr
    loopback = _flask(tmp_path, "menu", "push", PUBLIC_BASE_URL="http://127.0.0.1:5000", **production)
    assert loopback.returncode != 0 and "菜单未发布" in loopback.stderr
    public = _flask(tmp_path, "menu", "push", PUBLIC_BASE_URL="https://credit.heihe.gov.cn", **production)
    assert "菜单未发布" not in public.stderr and "无法连接微信接口" in public.stderr  # it got as far as calling


@pytest.mark.parametrize("missing", ["GUIDE_CONTACT", "SM2_SIGNING_KEY", "PDF_SIGNING_CERT", "PDF_SIGNING_KEY",
                                     "PDF_SIGNING_CHAIN"])
def test_production_names_each_missing_signing_setting(bare_env, tmp_path, missing):
    for name, value in PRODUCTION.items():
        if name != missing:
            bare_env.setenv(name, value)
    with pytest.raises(ConfigError, match=missing):
        config.require_settings(load_config(tmp_path))


def test_production_with_everything_and_development_with_nothing(bare_env, tmp_path):
    for name, value in PRODUCTION.items():
        bare_env.setenv(name, value)
    cfg = load_config(tmp_path)
    config.require_settings(cfg)
    assert cfg["PDF_TSA_URL"] is None and cfg["PDF_SEAL_IMAGE"] is None and not cfg["DEV_MODE"]
    for name in PRODUCTION:
        bare_env.delenv(name, raising=False)
    bare_env.setenv("HEGUI_ENV", "development")
    dev = load_config(tmp_path)
    assert dev["DEV_MODE"] and dev["GUIDE_CONTACT"] == config.DEV_GUIDE_CONTACT and dev["SM2_SIGNING_KEY"] is None
