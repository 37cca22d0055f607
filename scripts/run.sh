#!/usr/bin/env bash
# Installs SoniqueBay and scans MUSIC_DIR into the library (a generated demo library if none is given).
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
echo
echo "Try: $sb ls artist:aurora    |    $sb ls --format json year:2015..2022    |    $sb plugins"
