"""Settings: production refuses to start without what it must be given (docs/CONTRACT.md §1)."""

import pytest

import config

PRODUCTION = {"WECHAT_APPID": "wx1234567890abcdef", "WECHAT_SECRET": "s", "WECHAT_TOKEN": "t", "SIGNING_KEY": "k",
              "SECRET_KEY": "x", "GUIDE_CONTACT": "黑河市信用信息中心 0456-8220000", "SM2_SIGNING_KEY": "a" * 64,
              "PDF_SIGNING_CERT": "/etc/hegui/signer.pem", "PDF_SIGNING_KEY": "/etc/hegui/signer-key.pem",
              "PDF_SIGNING_CHAIN": "/etc/hegui/chain.pem"}


@pytest.fixture
def env(monkeypatch):
    for name in PRODUCTION:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(config, "load_dotenv", lambda *a, **k: None)  # no .env of the developer's in this test
    return monkeypatch


@pytest.mark.parametrize("missing", ["GUIDE_CONTACT", "SM2_SIGNING_KEY", "PDF_SIGNING_CERT", "PDF_SIGNING_KEY",
                                     "PDF_SIGNING_CHAIN"])
def test_production_names_each_missing_signing_setting(env, tmp_path, missing):
    for name, value in PRODUCTION.items():
        if name != missing:
            env.setenv(name, value)
    with pytest.raises(config.ConfigError, match=missing):
        config.load_config(tmp_path)


def test_production_with_everything_and_development_with_nothing(env, tmp_path):
    for name, value in PRODUCTION.items():
        env.setenv(name, value)
    cfg = config.load_config(tmp_path)
    assert cfg["PDF_TSA_URL"] is None and cfg["PDF_SEAL_IMAGE"] is None and not cfg["DEV_MODE"]
    env.delenv("WECHAT_APPID")
    for name in PRODUCTION:
        env.delenv(name, raising=False)
    dev = config.load_config(tmp_path)
    assert dev["DEV_MODE"] and dev["GUIDE_CONTACT"] == config.DEV_GUIDE_CONTACT and dev["SM2_SIGNING_KEY"] is None
