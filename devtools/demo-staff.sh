#!/usr/bin/env bash
# Demo staff accounts for the console /staff/: one for the credit office, one for a department (市场监管), created
# once and left as they are on later runs; prints their logins. The passwords are made on the first run and kept in
# instance/demo-staff.txt (or $DEMO_STAFF_FILE), for development only, like the other generated keys there.
# `flask demo-data` itself creates no staff accounts (it works in any mode).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
logins="${DEMO_STAFF_FILE:-instance/demo-staff.txt}"
if [ ! -s "$logins" ]; then
  mkdir -p "$(dirname "$logins")"
  (umask 077 && python - > "$logins" <<'EOF'
import secrets
print("demo-office", secrets.token_urlsafe(12), "office", "-")
print("demo-market", secrets.token_urlsafe(12), "department", "market")
EOF
  )
fi
echo "工作人员后台（staff console）: http://127.0.0.1:5000/staff/"
while read -r username password role department; do
  extra=()
  [ "$department" = "-" ] || extra=(--department "$department")
  echo "$password" | flask staff create "$username" --role "$role" "${extra[@]}" --if-missing >/dev/null
  echo "  ${username} / ${password}（${role}${extra:+ ${department}}）"
done < "$logins"
