#!/usr/bin/env bash
# Set up and run the whole test suite: once on SQLite, once on PostgreSQL. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash devtools/setup.sh
export TEST_PG_ADMIN
TEST_PG_ADMIN=$(bash devtools/services.sh)
export PATH="$PWD/.venv/bin:$PATH"
unset WECHAT_APPID DATABASE_URL REDIS_URL
status=0
echo "== tests on SQLite"
TEST_DB=sqlite TEST_REDIS_DB=${TEST_REDIS_DB:-14} python -m pytest "$@" || status=$?
echo "== tests on PostgreSQL"
TEST_DB=postgres TEST_REDIS_DB=${TEST_REDIS_DB:-15} python -m pytest "$@" || status=$?
exit $status
