#!/usr/bin/env bash
# Installs SoniqueBay with its test tools and runs the whole test suite (extra args go to pytest).
#   scripts/test.sh [-k pattern ...]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh test
exec .venv/bin/python -m pytest "$@"
