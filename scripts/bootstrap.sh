#!/usr/bin/env bash
# Installs what SoniqueBay needs into ./.venv: the core and every plugin under plugins/.
#   scripts/bootstrap.sh        what running it needs
#   scripts/bootstrap.sh test   plus the test tools and the system packages the tests use
set -euo pipefail
cd "$(dirname "$0")/.."

want=${1:-run}
python=${PYTHON:-python3}

# System packages: ffmpeg encodes the generated test libraries. Installed only when missing,
# and only where we may (root with apt); otherwise say so, and the tests that need it skip.
if [ "$want" = test ] && ! command -v ffmpeg >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "bootstrap: installing ffmpeg (apt-get)" >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ffmpeg >/dev/null
  else
    echo "bootstrap: ffmpeg is missing; install it (e.g. 'sudo apt-get install ffmpeg') to run every test" >&2
  fi
fi

if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
extras=""
[ "$want" = test ] && extras="[test]"
packages=(-e ".$extras")
for plugin in plugins/*/pyproject.toml; do
  [ -e "$plugin" ] && packages+=(-e "$(dirname "$plugin")$extras")
done
.venv/bin/python -m pip install --quiet --disable-pip-version-check "${packages[@]}"
