#!/bin/sh
# Register an unpacked Inbox bundle with the desktop: the menu entry, the icons and the file
# types (.p12 .pfx .mobileconfig .eml), and `inbox-app` on PATH. Run it from the bundle:
#
#   ./install.sh              for this user (~/.local)
#   sudo ./install.sh --system  for everyone (/usr/local)
#   ./install.sh --uninstall  [--system]: take the registration away again
#
# The bundle itself stays where it was unpacked, and nothing here touches Inbox's data
# (~/.local/share/inbox-app) or the keyring.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
data=${XDG_DATA_HOME:-$HOME/.local/share}
bin=$HOME/.local/bin
remove=no
for arg in "$@"; do
  case $arg in
    --system) data=/usr/local/share bin=/usr/local/bin ;;
    --uninstall) remove=yes ;;
    *) echo "usage: $0 [--system] [--uninstall]" >&2; exit 2 ;;
  esac
done

refresh() {
  command -v update-mime-database >/dev/null && update-mime-database "$data/mime" || true
  command -v update-desktop-database >/dev/null \
    && update-desktop-database -q "$data/applications" || true
  command -v gtk-update-icon-cache >/dev/null \
    && gtk-update-icon-cache -q -t -f "$data/icons/hicolor" 2>/dev/null || true
}

if [ "$remove" = yes ]; then
  rm -f "$data/applications/inbox-app.desktop" "$data/mime/packages/inbox-app.xml"
  find "$data/icons/hicolor" -name 'inbox-app.*' -path '*/apps/*' -delete 2>/dev/null || true
  [ -L "$bin/inbox-app" ] && rm -f "$bin/inbox-app"
  refresh
  echo "Inbox unregistered (its data and keyring entries are kept)."
  exit 0
fi

mkdir -p "$data/applications" "$data/mime/packages" "$bin"
( cd "$here/share/icons" && find hicolor -type f ) | while read -r icon; do
  mkdir -p "$data/icons/$(dirname "$icon")"
  cp "$here/share/icons/$icon" "$data/icons/$icon"
done
cp "$here/share/mime/packages/inbox-app.xml" "$data/mime/packages/inbox-app.xml"
# The menu entry starts this bundle wherever it lies, whatever PATH says.
sed -e "s|^Exec=inbox-app |Exec=\"$here/inbox-app\" |" -e "s|^TryExec=.*|TryExec=$here/inbox-app|" \
  "$here/share/applications/inbox-app.desktop" > "$data/applications/inbox-app.desktop"
ln -sf "$here/inbox-app" "$bin/inbox-app"
refresh
echo "Inbox registered: menu entry, icons and file types in $data; $bin/inbox-app."
