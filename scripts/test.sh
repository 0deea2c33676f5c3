#!/usr/bin/env bash
# The test command (README, CI): installs everything the tests need, then runs
# ruff, mypy and pytest. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# Debian packages: openssl is the S/MIME interop peer; gnome-keyring (under its own
# D-Bus session) is the real Secret Service the keystore's end-to-end tests use.
missing=()
command -v openssl >/dev/null || missing+=(openssl)
command -v gnome-keyring-daemon >/dev/null || missing+=(gnome-keyring)
command -v dbus-run-session >/dev/null || missing+=(dbus)
# dbus-x11 named explicitly: without it (and --no-install-recommends) gnome-keyring pulls systemd.
dpkg -s dbus-x11 >/dev/null 2>&1 || missing+=(dbus-x11)
command -v secret-tool >/dev/null || missing+=(libsecret-tools)
# A real IMAP server: the tests start private Dovecot instances on 127.0.0.1 (no service).
command -v dovecot >/dev/null || missing+=(dovecot-imapd)
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
# A private D-Bus session with a fresh, unlocked gnome-keyring in a throwaway directory:
# the tests never see (or change) the real user's keyring.
keyring_home=$(mktemp -d)
trap 'rm -rf "$keyring_home"' EXIT
export XDG_DATA_HOME="$keyring_home/data" XDG_CONFIG_HOME="$keyring_home/config"
export XDG_RUNTIME_DIR="$keyring_home/run" INBOX_KEYRING_TESTS=1 INBOX_SERVER_TESTS=1
mkdir -p "$XDG_DATA_HOME" "$XDG_CONFIG_HOME" "$XDG_RUNTIME_DIR"
chmod 700 "$XDG_RUNTIME_DIR"
export PYTHON_KEYRING_BACKEND=keyring.backends.SecretService.Keyring
dbus-run-session -- sh -c '
  eval "$(printf %s inbox-test-keyring | gnome-keyring-daemon --unlock --components=secrets)" >/dev/null
  exec .venv/bin/pytest -n "$0" -p no:cacheprovider "$@"
' "$workers" "$@" 2> >(grep -v -e "Failed to set fd limit" -e "SystemPrompter" >&2)
