"""devtools/demo-staff.sh (the demo staff accounts devtools/dev.sh makes) and devtools/setup.sh's dpkg lock wait."""

import os
import subprocess
from pathlib import Path

from models.policy.staff import check_login
from models.tables.accounts import StaffUser

ROOT = Path(__file__).resolve().parent.parent


def test_demo_staff_accounts_are_made_once_and_their_logins_printed(app, database_url, redis_url, tmp_path):
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url,
           "DEMO_STAFF_FILE": str(tmp_path / "demo-staff.txt")}
    env.pop("WECHAT_APPID", None)
    first = subprocess.run(["bash", "devtools/demo-staff.sh"], cwd=ROOT, env=env, capture_output=True, text=True,
                           check=True).stdout
    again = subprocess.run(["bash", "devtools/demo-staff.sh"], cwd=ROOT, env=env, capture_output=True, text=True,
                           check=True).stdout
    assert first == again and "/staff/" in first
    logins = dict(line.split()[:2] for line in (tmp_path / "demo-staff.txt").read_text().splitlines())
    assert set(logins) == {"demo-office", "demo-market"}
    for username, password in logins.items():
        assert f"{username} / {password}" in first
        assert check_login(username, password) is not None
    assert StaffUser.by_username("demo-office").role == "office"
    market = StaffUser.by_username("demo-market")
    assert market.role == "department" and market.department.code == "market"
    assert StaffUser.select().count() == 2
    assert oct((tmp_path / "demo-staff.txt").stat().st_mode & 0o777) == "0o600"


def test_demo_data_makes_no_staff_account(runner):
    result = runner.invoke(args=["demo-data", "--enterprises", "5", "--records", "5"])
    assert result.exit_code == 0, result.output
    assert StaffUser.select().count() == 0


def _fake_apt(tmp_path, failures, message):
    """An `apt-get` that fails `failures` times with `message` (as when another run holds the lock), then works."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "apt-get"
    script.write_text(f"""#!/usr/bin/env bash
count=$(cat {tmp_path}/calls 2>/dev/null || echo 0); echo $((count + 1)) > {tmp_path}/calls
echo "$@" >> {tmp_path}/args
if [ "$count" -lt {failures} ]; then echo "{message}" >&2; exit 100; fi
echo installed
""")
    script.chmod(0o755)
    return {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "APT_LOCK_POLL": "0.05", "APT_LOCK_WAIT": "30"}


def test_setup_waits_for_another_apt_run_instead_of_failing(tmp_path):
    env = _fake_apt(tmp_path, 3, "E: Could not get lock /var/lib/apt/lists/lock. It is held by process 4242 (apt-get)")
    result = subprocess.run(["bash", "devtools/apt-wait.sh", "update", "-qq"], cwd=ROOT, env=env, capture_output=True,
                            text=True)
    assert result.returncode == 0 and "installed" in result.stdout and "waiting" in result.stderr
    assert (tmp_path / "calls").read_text().strip() == "4"
    assert "DPkg::Lock::Timeout=30 update -qq" in (tmp_path / "args").read_text()


def test_other_apt_failures_are_not_waited_for(tmp_path):
    env = _fake_apt(tmp_path, 9, "E: Unable to locate package nosuch")
    result = subprocess.run(["bash", "devtools/apt-wait.sh", "install", "nosuch"], cwd=ROOT, env=env,
                            capture_output=True, text=True)
    assert result.returncode == 100 and "Unable to locate package" in result.stderr
    assert (tmp_path / "calls").read_text().strip() == "1"


def test_setup_installs_through_the_waiting_apt():
    text = (ROOT / "devtools" / "setup.sh").read_text()
    assert "bash devtools/apt-wait.sh update" in text and "bash devtools/apt-wait.sh install" in text
    assert "apt-get update" not in text
