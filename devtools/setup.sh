#!/usr/bin/env bash
# Install what a fresh Debian 12 machine lacks, and the Python environment in .venv. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
PACKAGES=(python3-venv python3-dev build-essential redis-server postgresql wkhtmltopdf fonts-wqy-zenhei
          fonts-wqy-microhei poppler-utils zbar-tools libzbar0 chromium curl)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  # Another apt run (unattended-upgrades on a fresh machine) may hold the lock: wait for it instead of failing.
  bash devtools/apt-wait.sh update -qq
  bash devtools/apt-wait.sh install -y -qq "${missing[@]}" >/dev/null
fi

PY=python3
[ -d .venv ] || $PY -m venv .venv
stamp=.venv/.requirements.sha
want=$(cat requirements.txt requirements-dev.txt | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -r requirements-dev.txt
  echo "$want" > "$stamp"
fi
