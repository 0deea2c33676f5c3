#!/usr/bin/env bash
# Build the Linux bundle and tarball, then check the frozen app works:
#
#   packaging/build-linux.sh
#
# 1. the repo's .venv (scripts/setup-venv.sh makes it if missing) gets PyInstaller
#    (packaging/requirements-build.txt);
# 2. PyInstaller builds dist/inbox-app/ from packaging/inbox-app.spec (the executable is
#    dist/inbox-app/inbox-app), and the .desktop file, MIME entries, icons and install.sh are
#    copied into it;
# 3. the frozen `inbox-app --version` must print pyproject's version, and the frozen
#    `inbox-app --self-test` must pass: offscreen, inside a private D-Bus session with a
#    throwaway unlocked gnome-keyring (as scripts/test.sh runs the tests), with a throwaway
#    data directory; `python -m inbox_app --self-test` is timed the same way to compare; the
#    frozen `inbox-app --demo --screenshots DIR` must paint every view of the demo;
# 4. dist/inbox-app-VERSION-linux-ARCH.tar.gz is made from the checked bundle.
# A bundle over 120 MB (decimal) fails the build before the checks run.
# Any failure stops the build with a non-zero exit. The figures are printed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
now() { date +%s.%N; }
seconds() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

started=$(now)

# Debian packages: binutils (PyInstaller's strip and objdump), the session bus and keyring
# the self-test uses, and the libraries the bundle takes from the host (see HOST_LIBRARIES
# in the spec) plus libGL/libEGL, which PyInstaller never bundles.
missing=()
command -v objdump >/dev/null && command -v strip >/dev/null || missing+=(binutils)
command -v gnome-keyring-daemon >/dev/null || missing+=(gnome-keyring)
command -v dbus-run-session >/dev/null || missing+=(dbus)
# dbus-x11 named explicitly: without it (and --no-install-recommends) gnome-keyring pulls systemd.
for package in dbus-x11 libgl1 libegl1 libfontconfig1 libfreetype6 libglib2.0-0 \
  libxkbcommon0 libdbus-1-3 libx11-6 libx11-xcb1; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  as_root apt-get update -q >/dev/null
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    "${missing[@]}" >/dev/null
fi

[ -x .venv/bin/python ] || scripts/setup-venv.sh
.venv/bin/python -m pip install -q --disable-pip-version-check -r packaging/requirements-build.txt
version=$(.venv/bin/python -c \
  'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])')

echo "== pyinstaller (inbox-app $version)"
mkdir -p build
build_started=$(now)
if ! .venv/bin/pyinstaller --noconfirm --clean --log-level WARN --distpath dist \
  --workpath build packaging/inbox-app.spec >build/pyinstaller.log 2>&1; then
  tail -n 40 build/pyinstaller.log >&2
  echo "build-linux: PyInstaller failed (whole log: build/pyinstaller.log)" >&2
  exit 1
fi
build_seconds=$(seconds "$build_started" "$(now)")

bundle=dist/inbox-app
share=$bundle/share
mkdir -p "$share/applications" "$share/mime/packages" "$share/icons/hicolor/scalable/apps"
cp packaging/linux/inbox-app.desktop "$share/applications/inbox-app.desktop"
cp packaging/linux/inbox-app-mime.xml "$share/mime/packages/inbox-app.xml"
cp resources/inbox-app.svg "$share/icons/hicolor/scalable/apps/inbox-app.svg"
for png in resources/icons/inbox-app-*.png; do
  size=${png##*-}
  size=${size%.png}
  mkdir -p "$share/icons/hicolor/${size}x${size}/apps"
  cp "$png" "$share/icons/hicolor/${size}x${size}/apps/inbox-app.png"
done
install -m 755 packaging/linux/install.sh "$bundle/install.sh"

# The target is 120 MB, counted in decimal megabytes (120 MiB would let 125.8 MB through).
size_limit=120000000
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB (%.1f MB)", b / 1048576, b / 1000000 }'; }
bundle_bytes=$(du -sb "$bundle" | cut -f1)
echo "== bundle: $(mib "$bundle_bytes")"
if [ "$bundle_bytes" -gt "$size_limit" ]; then
  echo "build-linux: the bundle is $(mib "$bundle_bytes"), over the limit of" \
    "$(mib "$size_limit")" >&2
  exit 1
fi

echo "== frozen inbox-app --version"
version_started=$(now)
printed=$("$bundle/inbox-app" --version)
version_seconds=$(seconds "$version_started" "$(now)")
if [ "$printed" != "inbox-app $version" ]; then
  echo "build-linux: the frozen app says '$printed', expected 'inbox-app $version'" >&2
  exit 1
fi
echo "$printed"

# A private D-Bus session with a fresh, unlocked gnome-keyring and a fresh data directory in
# a throwaway place: the self-test never sees (or changes) the real user's keyring or data.
# No PYTHON_KEYRING_BACKEND: the frozen app must find the Secret Service backend by itself
# (keyring's entry points, which the spec bundles).
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
# Runs "$@" once in its own keyring session; prints the seconds the command itself took.
self_test() {
  local home="$scratch/run-$RANDOM"
  mkdir -p "$home/data" "$home/config" "$home/runtime" "$home/inbox"
  chmod 700 "$home/runtime"
  env XDG_DATA_HOME="$home/data" XDG_CONFIG_HOME="$home/config" \
    XDG_RUNTIME_DIR="$home/runtime" INBOX_APP_HOME="$home/inbox" \
    QT_QPA_PLATFORM=offscreen dbus-run-session -- sh -c '
      eval "$(printf %s inbox-build-keyring \
        | gnome-keyring-daemon --unlock --components=secrets)" >/dev/null
      start=$(date +%s.%N)
      "$@" >&2 || exit $?
      awk -v a="$start" -v b="$(date +%s.%N)" "BEGIN { printf \"%.2f\", b - a }"
    ' self-test "$@" 2> >(grep --line-buffered -v -e "Failed to set fd limit" -e "SystemPrompter" \
      -e "does not support propagateSizeHints" >&2)
}

echo "== frozen inbox-app --self-test (offscreen, private keyring)"
if ! frozen_seconds=$(self_test "$PWD/$bundle/inbox-app" --self-test); then
  echo "build-linux: the frozen self-test failed" >&2
  exit 1
fi
echo "== frozen inbox-app --demo --screenshots (offscreen: every view of the demo painted)"
shots=$scratch/screenshots
if ! self_test "$PWD/$bundle/inbox-app" --demo --screenshots "$shots" >/dev/null \
  || ! compgen -G "$shots/*.png" >/dev/null; then
  echo "build-linux: the frozen demo screenshots failed" >&2
  exit 1
fi
echo "== python -m inbox_app --self-test (the same, unfrozen, for comparison)"
if ! python_seconds=$(self_test "$PWD/.venv/bin/python" -m inbox_app --self-test); then
  echo "build-linux: python -m inbox_app --self-test failed" >&2
  exit 1
fi

echo "== tarball"
tarball=dist/inbox-app-$version-linux-$(uname -m).tar.gz
tar -C dist -czf "$tarball" inbox-app

tarball_bytes=$(stat -c %s "$tarball")
total_seconds=$(seconds "$started" "$(now)")
echo "== figures"
echo "bundle:                      $bundle: $(mib "$bundle_bytes")"
echo "tarball:                     $tarball: $(mib "$tarball_bytes")"
echo "PyInstaller build:           ${build_seconds} s (whole script ${total_seconds} s)"
echo "frozen --version:            ${version_seconds} s"
echo "frozen --self-test:          ${frozen_seconds} s"
echo "python -m inbox_app --self-test: ${python_seconds} s"
