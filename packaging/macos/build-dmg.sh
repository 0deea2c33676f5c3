#!/usr/bin/env bash
# Build dist/Inbox.app and dist/Inbox-VERSION.dmg on macOS (11 or newer, Xcode command line
# tools installed), optionally signed and notarized:
#
#   packaging/macos/build-dmg.sh
#
#   INBOX_CODESIGN_IDENTITY="Developer ID Application: Example Ltd (TEAMID1234)" \
#   INBOX_NOTARY_PROFILE=inbox-notary packaging/macos/build-dmg.sh
#
# INBOX_CODESIGN_IDENTITY: PyInstaller signs every binary and the app with it, with the
# hardened runtime and packaging/macos/entitlements.plist; the .dmg is signed too.
# INBOX_NOTARY_PROFILE: a notarytool keychain profile (`xcrun notarytool store-credentials`);
# the .dmg is submitted, waited for, and the ticket stapled. Without either variable the
# result is unsigned (fine for a local try, refused by Gatekeeper elsewhere).
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ "$(uname -s)" != Darwin ]; then
  echo "build-dmg: run this on macOS" >&2
  exit 2
fi
identity=${INBOX_CODESIGN_IDENTITY:-}
notary_profile=${INBOX_NOTARY_PROFILE:-}
if [ -n "$notary_profile" ] && [ -z "$identity" ]; then
  echo "build-dmg: notarization needs a signed app: set INBOX_CODESIGN_IDENTITY too" >&2
  exit 2
fi

PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e . \
  -r packaging/requirements-build.txt
version=$(.venv/bin/python -c \
  'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])')

echo "== pyinstaller (Inbox $version)"
INBOX_CODESIGN_IDENTITY=$identity .venv/bin/pyinstaller --noconfirm --clean \
  --log-level WARN packaging/inbox-app.spec
app=dist/Inbox.app

echo "== checks"
printed=$("$app/Contents/MacOS/inbox-app" --version)
[ "$printed" = "inbox-app $version" ] || { echo "build-dmg: got '$printed'" >&2; exit 1; }
# The self-test uses the login keychain (it must be unlocked: an interactive session is).
QT_QPA_PLATFORM=offscreen "$app/Contents/MacOS/inbox-app" --self-test
if [ -n "$identity" ]; then
  codesign --verify --deep --strict --verbose=2 "$app"
fi

echo "== dmg"
staging=$(mktemp -d)
trap 'rm -rf "$staging"' EXIT
cp -R "$app" "$staging/"
ln -s /Applications "$staging/Applications"
dmg=dist/Inbox-$version.dmg
rm -f "$dmg"
hdiutil create -quiet -volname "Inbox $version" -srcfolder "$staging" -fs HFS+ \
  -format UDZO -ov "$dmg"

if [ -n "$identity" ]; then
  codesign --sign "$identity" --timestamp "$dmg"
fi
if [ -n "$notary_profile" ]; then
  echo "== notarize"
  xcrun notarytool submit "$dmg" --keychain-profile "$notary_profile" --wait
  xcrun stapler staple "$dmg"
  xcrun stapler validate "$dmg"
  spctl --assess --type open --context context:primary-signature --verbose=2 "$dmg"
fi
echo "built $dmg"
