#!/usr/bin/env bash
# smoke.sh: proves the full profile end to end with smoke.yaml (run after `up --full`, with
# the same DEVCLOUD_* variables): the stack waits on its WaitCondition until this script
# signals it through the handle's curl_cli (as a booting node would), then must reach
# CREATE_COMPLETE; the delete must leave nothing in Nova, Neutron or Octavia.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DIR=${DEVCLOUD_DIR:-$(cd "$HERE/../../.." && pwd)/.bayforge/devcloud}
export OS_CLIENT_CONFIG_FILE=$DIR/clouds.yaml
NAME=devcloud-smoke-$$
demo() { OS_CLOUD=devcloud-demo openstack "$@"; }
admin() { OS_CLOUD=devcloud-admin openstack "$@"; }
count() { # what the delete must give back
  echo "servers=$(admin server list --all-projects -f value -c ID | wc -l)" \
    "lbs=$(admin loadbalancer list -f value -c id | wc -l)" \
    "ports=$(admin port list -f value -c ID | wc -l)" \
    "fips=$(admin floating ip list -f value -c ID | wc -l)" \
    "routers=$(admin router list -f value -c ID | wc -l)" \
    "nets=$(admin network list -f value -c ID | wc -l)" \
    "sgs=$(admin security group list -f value -c Name | grep -cvx default)"  # Neutron makes each project's default on first use
}
before=$(count)
echo "before: $before"
demo stack create -t "$HERE/smoke.yaml" "$NAME" -f value -c id
for _ in $(seq 120); do
  st=$(demo stack resource show "$NAME" wait_condition -f value -c resource_status 2>/dev/null || true)
  [ "$st" = CREATE_IN_PROGRESS ] && [ "$(demo stack resource list "$NAME" -f value -c resource_status \
    | grep -vc CREATE_COMPLETE)" = 1 ] && break
  demo stack show "$NAME" -f value -c stack_status | grep -q FAILED && break
  sleep 2
done
demo stack resource list "$NAME" -f value -c resource_name -c resource_status
echo "signalling the wait condition with curl_cli"
cli=$(demo stack output show "$NAME" curl_cli -f value -c output_value)
eval "$cli -s -o /dev/null -w '%{http_code}\n' --data-binary '{\"status\": \"SUCCESS\", \"reason\": \"smoke.sh\"}'"
for _ in $(seq 60); do
  st=$(demo stack show "$NAME" -f value -c stack_status)
  case "$st" in *_COMPLETE|*_FAILED) break ;; esac
  sleep 2
done
echo "stack: $st"
[ "$st" = CREATE_COMPLETE ] || { demo stack show "$NAME" -f value -c stack_status_reason; exit 1; }
echo "server: $(demo stack output show "$NAME" server_status -f value -c output_value)," \
  "LB floating IP: $(demo stack output show "$NAME" lb_floating_ip -f value -c output_value)"
demo stack delete -y --wait "$NAME" >/dev/null
after=$(count)
echo "after:  $after"
[ "$before" = "$after" ] || { echo "LEAK"; exit 1; }
echo "smoke OK"
