#!/usr/bin/env bash
# What the benches need beyond the product's environment: Debian's wrk, and the peers (WeRoBot, a bare Flask) in
# their own virtualenv bench/.venv-peers. Called by the benches when something is missing; safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
if ! command -v wrk >/dev/null; then
  echo "installing: wrk"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq wrk >/dev/null
fi

[ -x .venv/bin/python ] || bash devtools/setup.sh

PEERS=bench/.venv-peers
[ -d "$PEERS" ] || python3 -m venv "$PEERS"
stamp=$PEERS/.requirements.sha
want=$(sha256sum bench/requirements-peers.txt | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  "$PEERS/bin/pip" install -q -r bench/requirements-peers.txt
  echo "$want" > "$stamp"
fi
