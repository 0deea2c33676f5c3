#!/usr/bin/env bash
# Create .venv at the repo root (if missing) and install Inbox into it.
# Usage: scripts/setup-venv.sh [EXTRAS]   e.g. "dev"
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_install() {
  as_root apt-get update -q >/dev/null
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >/dev/null
}

PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "Inbox needs Python 3.11 or newer as '$PYTHON' (set PYTHON=...)" >&2
  exit 2
fi
if [ ! -x .venv/bin/python ]; then
  if ! "$PYTHON" -m venv .venv 2>/dev/null; then
    rm -rf .venv
    command -v apt-get >/dev/null && apt_install python3-venv
    "$PYTHON" -m venv .venv
  fi
fi
# Qt (the GUI, also offscreen in tests and --self-test) needs these shared libraries and a
# font; on Debian/Ubuntu install whichever are missing.
if command -v dpkg >/dev/null && command -v apt-get >/dev/null; then
  qt_missing=()
  for pkg in libgl1 libegl1 libfontconfig1 libglib2.0-0 libxkbcommon0 libdbus-1-3 fonts-dejavu-core; do
    dpkg -s "$pkg" >/dev/null 2>&1 || qt_missing+=("$pkg")
  done
  if [ ${#qt_missing[@]} -gt 0 ]; then
    echo "installing: ${qt_missing[*]}"
    apt_install "${qt_missing[@]}"
  fi
fi
extras=${1:-}
spec="."
[ -n "$extras" ] && spec=".[$extras]"
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null
.venv/bin/python -m pip install -q --disable-pip-version-check -e "$spec"
