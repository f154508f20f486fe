#!/usr/bin/env bash
# Procfile.dev's Redis: start one on 6379 unless one already answers there.
if redis-cli -p 6379 ping >/dev/null 2>&1; then
  echo "redis already running on 6379"
  exec sleep infinity
fi
exec redis-server --port 6379 --save "" --appendonly no
