#!/usr/bin/env bash
# The console's browser tests drive Debian's chromium (headless, through playwright-core).
# Installs it when it is missing (as root, see scripts/lib/apt-ensure.sh). Prints its path.
set -euo pipefail
export PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:${PATH:-}"
BIN=${CHROMIUM_PATH:-/usr/bin/chromium}
if [ ! -x "$BIN" ]; then
  source "$(dirname "${BASH_SOURCE[0]}")/lib/apt-ensure.sh"
  logs=$(mktemp -d); trap 'rm -rf "$logs"' EXIT
  apt_ensure "$logs" chromium || { echo "ensure-chromium: could not install chromium" >&2; exit 1; }
  [ -x "$BIN" ] || { echo "ensure-chromium: chromium is installed but $BIN is not there" >&2; exit 1; }
fi
echo "$BIN"
