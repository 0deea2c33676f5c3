#!/usr/bin/env bash
# Quick start: set up .venv and run the app (until the GUI lands: its --help).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-venv.sh
if [ $# -eq 0 ]; then set -- --help; fi
exec .venv/bin/inbox-app "$@"
