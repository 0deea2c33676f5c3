#!/usr/bin/env bash
# Quick start: set up .venv and run the app. Without arguments: the self-contained demo
# (a generated PKI and a local account full of sample mail; no server, no network).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-venv.sh
if [ $# -eq 0 ]; then set -- --demo; fi
exec .venv/bin/inbox-app "$@"
