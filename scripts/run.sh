#!/usr/bin/env bash
# Installs SoniqueBay, scans MUSIC_DIR into the library (a generated demo library if none is given),
# then serves the web interface and the API on http://127.0.0.1:8000 (SONIQUEBAY_PORT / SONIQUEBAY_HOST to change).
#   scripts/run.sh [MUSIC_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh run
sb=.venv/bin/soniquebay

music=${1:-}
if [ -z "$music" ]; then
  music=${SONIQUEBAY_DEMO_DIR:-$PWD/var/demo-music}
  "$sb" demo-library "$music"
fi
"$sb" scan "$music"
"$sb" stats

if [ "$("$sb" user list --format json)" = "[]" ]; then
  password=$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(12))')
  printf '%s\n' "$password" | "$sb" user add admin --role admin --password-stdin
  echo "First start: log in as 'admin' with password '$password' (change it, or add users: $sb user add --help)."
fi
host=${SONIQUEBAY_HOST:-127.0.0.1}
port=${SONIQUEBAY_PORT:-8000}
echo "Serving on http://$host:$port (the web interface; API docs at /docs). Ctrl-C stops."
exec "$sb" serve --host "$host" --port "$port"
