#!/usr/bin/env bash
# The test command (README, CI): installs everything the tests need, then runs
# ruff, mypy and pytest. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# Debian packages: openssl is the S/MIME interop peer.
missing=()
command -v openssl >/dev/null || missing+=(openssl)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  as_root apt-get update -q >/dev/null
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    "${missing[@]}" >/dev/null
fi

scripts/setup-venv.sh dev

echo "== ruff"
.venv/bin/ruff check inbox_app tests bench
.venv/bin/ruff format --check --quiet inbox_app tests bench
echo "== mypy"
.venv/bin/mypy
echo "== pytest"
workers=$(nproc 2>/dev/null || echo 2)
exec .venv/bin/pytest -n "$workers" -p no:cacheprovider "$@"
