#!/usr/bin/env bash
# The console's browser tests drive Debian's chromium (headless, through playwright-core).
# Installs it when it is missing, as the dev cloud installs its packages: as root, with a
# policy-rc.d answering 101 so no maintainer script starts a service. Prints its path.
set -euo pipefail
BIN=${CHROMIUM_PATH:-/usr/bin/chromium}
if [ ! -x "$BIN" ]; then
  [ "$(id -u)" -eq 0 ] || { echo "chromium is missing; run once as root: apt-get install -y chromium" >&2; exit 1; }
  own_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d
    own_policy=1
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  export DEBIAN_FRONTEND=noninteractive
  log=$(mktemp)
  { apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium; } >"$log" 2>&1 || { tail -20 "$log" >&2; exit 1; }
  rm -f "$log"
  if [ $own_policy -eq 1 ]; then rm -f /usr/sbin/policy-rc.d; trap - EXIT; fi
fi
echo "$BIN"
