#!/bin/sh
# Adds Piper Desktop to the application menu, from wherever this folder was unpacked.
#   ./install-desktop-entry.sh            for the current user (~/.local/share)
#   ./install-desktop-entry.sh --system   for every user (/usr/share; run as root)
#   ./install-desktop-entry.sh --remove   takes the entry and icons away again
# Also links the `piper` command into ~/.local/bin (or /usr/local/bin with --system).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
mode=user
remove=no
for arg in "$@"; do
  case "$arg" in
    --system) mode=system ;;
    --remove) remove=yes ;;
    *) echo "usage: $0 [--system] [--remove]" >&2; exit 2 ;;
  esac
done
if [ "$mode" = system ]; then
  share=/usr/share
  bin=/usr/local/bin
else
  share=${XDG_DATA_HOME:-$HOME/.local/share}
  bin=$HOME/.local/bin
fi
apps=$share/applications
icons=$share/icons/hicolor

if [ "$remove" = yes ]; then
  rm -f "$apps/piper-desktop.desktop" "$icons/scalable/apps/piper-desktop.svg" \
        "$icons/256x256/apps/piper-desktop.png"
  [ -L "$bin/piper" ] && rm -f "$bin/piper"
  echo "removed Piper Desktop's menu entry (your data stays where it was)"
  exit 0
fi

mkdir -p "$apps" "$icons/scalable/apps" "$icons/256x256/apps" "$bin"
cp "$here/piper-desktop.svg" "$icons/scalable/apps/piper-desktop.svg"
cp "$here/piper-desktop.png" "$icons/256x256/apps/piper-desktop.png"
sed -e "s|^TryExec=.*|TryExec=$here/piper|" -e "s|^Exec=.*|Exec=\"$here/piper\"|" \
    "$here/piper-desktop.desktop" > "$apps/piper-desktop.desktop"
chmod 644 "$apps/piper-desktop.desktop"
ln -sf "$here/piper" "$bin/piper"
if command -v update-desktop-database >/dev/null 2>&1; then
  update-desktop-database "$apps" >/dev/null 2>&1 || true
fi
if command -v gtk-update-icon-cache >/dev/null 2>&1; then
  gtk-update-icon-cache -q "$icons" >/dev/null 2>&1 || true
fi
echo "installed $apps/piper-desktop.desktop; \`piper\` is linked in $bin"
