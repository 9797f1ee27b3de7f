#!/bin/bash
# Bayforge boot, last part: tell Heat how this node's boot went, through the node's
# WaitConditionHandle. Heat replaces the placeholder below (str_replace in kubemaster.yaml
# and kubeminion.yaml) with the handle's curl_cli: curl, its token header and the signal
# URL. FAILURE carries the first failing part's reason, which fails the stack with it.
set -uo pipefail
state=/var/lib/bayforge
mkdir -p "$state"
name=$(hostname -s 2>/dev/null || hostname)
name=${name,,}
status=FAILURE
if [ -s "$state/failed" ]; then
  reason=$(cat "$state/failed")
elif ! [ -r /etc/sysconfig/heat-params ]; then
  reason="the boot did not write /etc/sysconfig/heat-params (node $name, see /var/log/cloud-init-output.log)"
else
  # shellcheck source=/dev/null
  . /etc/sysconfig/heat-params
  last="configure-kubernetes-$NODE_ROLE"
  if [ -e "$state/done/$last" ]; then
    status=SUCCESS
    reason="Kubernetes $NODE_ROLE $name ($KUBE_NODE_IP) is up"
  else
    reason="the boot did not finish: $last never completed (node $name, see /var/log/cloud-init-output.log)"
  fi
fi
payload=$(python3 -c 'import json, sys; print(json.dumps({"status": sys.argv[1], "reason": sys.argv[2], "data": sys.argv[3]}))' \
  "$status" "$reason" "$name")
echo "wc-notify: $status: $reason"
# Heat may be briefly unreachable; a signal that never arrives fails the stack later, by
# wait_condition_timeout, with a less helpful reason.
for attempt in $(seq 1 30); do
  # Heat writes a whole command line here, words and quotes: it is meant to be split.
  if $WAIT_CURL --fail --silent --show-error --data-binary "$payload"; then
    exit 0
  fi
  echo "wc-notify: signal attempt $attempt failed, retrying" >&2
  sleep 10
done
exit 1
