#!/usr/bin/env bash
# Set up and run the service in development mode: SQLite, a local Redis, the doubles, the chat simulator, and two demo
# staff accounts for the console. Ctrl+C stops every process it started (honcho stops them together).
set -euo pipefail
cd "$(dirname "$0")/.."
bash devtools/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
export HEGUI_ENV=development  # development mode only when asked for (docs/CONTRACT.md §1)
export PYTHONUNBUFFERED=1
# The doubles of Procfile.dev: WeChat on 5101 (config.py's development default), SMS on 5102, the staff group's
# WeCom robot on 5103. The simulator shows the SMS codes and the group's messages from them.
export SMS_BACKEND="${SMS_BACKEND:-http}"
export SMS_WEBHOOK_URL="${SMS_WEBHOOK_URL:-http://127.0.0.1:5102/send}"
export WECOM_ROBOT_URL="${WECOM_ROBOT_URL:-http://127.0.0.1:5103/cgi-bin/webhook/send?key=dev-staff-group}"
bash devtools/services.sh >/dev/null || true
flask init-db
flask demo-data --if-empty

bash devtools/demo-staff.sh
echo "模拟器（chat simulator）: http://127.0.0.1:5000/dev/chat"
echo "停止：按 Ctrl+C（Stop: press Ctrl+C）"
exec honcho start -f Procfile.dev
