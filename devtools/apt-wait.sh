#!/usr/bin/env bash
# `apt-get "$@"`, waiting while another apt or dpkg run holds its lock (on a fresh machine unattended-upgrades often
# does) instead of failing: apt's own DPkg::Lock::Timeout for the dpkg lock, and retries for the locks it does not
# cover (the lists lock of `apt-get update`). Gives up after APT_LOCK_WAIT seconds (default 900).
set -uo pipefail
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
wait_seconds="${APT_LOCK_WAIT:-900}"
poll="${APT_LOCK_POLL:-5}"
deadline=$((SECONDS + wait_seconds))
told=""
while true; do
  output=$($SUDO env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout="$wait_seconds" "$@" 2>&1)
  rc=$?
  if [ $rc -eq 0 ]; then
    [ -z "$output" ] || printf '%s\n' "$output"
    exit 0
  fi
  if ! grep -qiE "could not get lock|unable to acquire the dpkg frontend lock|is another process using it" <<<"$output" \
      || [ $SECONDS -ge $deadline ]; then
    printf '%s\n' "$output" >&2
    exit $rc
  fi
  [ -n "$told" ] || echo "another apt or dpkg run holds the lock; waiting (up to ${wait_seconds} s)…" >&2
  told=1
  sleep "$poll"
done
