#!/bin/bash
# Bayforge boot: the node agent (issue 15). A systemd timer runs /usr/local/sbin/bayforge-agent
# every 30 s: it asks Bayforge (magnum_url) for this node's desired state, runs the one command
# it is given (a Kubernetes upgrade step, or a CA rotation's), and reports back. It pulls, so it works where
# Bayforge cannot reach the nodes (behind API Gateway, no Heat agent in the image), and a
# Bayforge that is briefly away only means the next run tries again: every step is idempotent
# and its result is kept on the node and reported again until Bayforge has it.
# The node signs each request with its kubelet client key (the identity Bayforge signed at
# boot: system:node:<name>, from the bay's CA) and sends that certificate; no token is kept.
# shellcheck source=/dev/null
. /usr/local/lib/bayforge/boot-lib.sh
bf_begin install-node-agent

install -d -m 0700 /var/lib/bayforge-agent
cat >/usr/local/sbin/bayforge-agent <<'AGENT_EOF'
#!/bin/bash
# Bayforge node agent: one run (bayforge-agent.timer starts it every 30 s). See
# install-node-agent.sh. Logs to the journal (stdout) and /var/log/bayforge-agent.log.
set -uo pipefail
# shellcheck source=/dev/null
. /etc/sysconfig/heat-params
# shellcheck source=/dev/null
. /usr/local/lib/bayforge/boot-lib.sh
bf_export_proxy
state=/var/lib/bayforge-agent
pem=/var/lib/kubelet/pki/kubelet-client-current.pem
node=$(bf_node_name)
path="/v1/agent/bays/$BAY_UUID/nodes/$node"
export DEBIAN_FRONTEND=noninteractive
exec 9>"$state/lock"
flock -n 9 || exit 0 # a run is still at work (an upgrade takes minutes)
exec >> >(tee -a /var/log/bayforge-agent.log) 2>&1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
log() { echo "bayforge-agent $(date -u +%FT%TZ): $*"; }

# signed METHOD PATH BODY_FILE OUT: one signed request; prints the HTTP status (000: no answer)
signed() {
  local method=$1 p=$2 body=$3 out=$4 ts digest sig cert
  ts=$(date +%s)
  digest=$(sha256sum <"$body" | cut -d' ' -f1)
  printf 'bayforge-node-v1\n%s\n%s\n%s\n%s' "$method" "$p" "$ts" "$digest" >"$work/msg"
  (umask 077 && openssl pkey -in "$pem" -out "$work/key") || return 1
  sig=$(openssl dgst -sha256 -sign "$work/key" "$work/msg" | base64 -w0)
  cert=$(openssl x509 -in "$pem" | base64 -w0)
  local args=(-sS -o "$out" -w '%{http_code}' -X "$method" --connect-timeout 10 --max-time 30
    -H "X-Bayforge-Node-Certificate: $cert" -H "X-Bayforge-Node-Timestamp: $ts" -H "X-Bayforge-Node-Signature: $sig")
  if [ "$method" = POST ]; then args+=(-H 'Content-Type: application/json' --data-binary "@$body"); fi
  curl "${args[@]}" "${MAGNUM_URL%/v1}$p" || echo 000
}

# report RESULT [COMMAND_ID] [REASON]: tells Bayforge what this node did and runs now
report() {
  local version
  version=$(current_version)
  python3 - "$1" "${2:-}" "${3:-}" "$version" "${action:-}" >"$work/report.json" <<'PY'
import json, sys
result, cid, reason, version, action = sys.argv[1:6]
running = "upgrading" if action.startswith("upgrade") or action in ("", "-") else action
body = {"result": result, "step": {"running": running, "idle": "idle"}.get(result, result)}
if cid: body["command_id"] = cid
if reason: body["reason"] = reason[:500]
if version: body["version"] = version
print(json.dumps(body))
PY
  local status
  status=$(signed POST "$path/report" "$work/report.json" "$work/report.out")
  [ "$status" = 200 ] || { log "report $1 ${2:-} not taken ($status: $(head -c 300 "$work/report.out" 2>/dev/null)); the next run reports again"; return 1; }
}

# what the kubelet runs, as the API shows this node (else what kubeadm is)
current_version() {
  local v
  v=$(node_status | cut -d' ' -f1)
  [ -n "$v" ] || v=$(kubeadm version -o short 2>/dev/null)
  echo "$v"
}
node_status() {
  kubectl --kubeconfig /etc/kubernetes/kubelet.conf get node "$node" \
    -o 'jsonpath={.status.nodeInfo.kubeletVersion} {.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null
}

# install_kube PACKAGE... VERSION: from the new minor's repository, held again after
install_kube() {
  local version=${!#} minor repo
  version=${version#v}
  minor=$(echo "$version" | cut -d. -f1,2)
  repo="${KUBE_APT_MIRROR%/}/core:/stable:/v$minor/deb"
  if ! grep -qF "$repo/" /etc/apt/sources.list.d/kubernetes.list 2>/dev/null; then
    curl -fsSL --retry 3 "$repo/Release.key" -o "$work/release.key" || { echo "could not download $repo/Release.key"; return 1; }
    GNUPGHOME=$work gpg --batch --yes --dearmor -o /etc/apt/keyrings/kubernetes-apt-keyring.gpg "$work/release.key" || return 1
    echo "deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.gpg] $repo/ /" >/etc/apt/sources.list.d/kubernetes.list
  fi
  local pkgs=("${@:1:$#-1}") with=()
  for p in "${pkgs[@]}"; do with+=("$p=$version-*"); done
  apt-mark unhold "${pkgs[@]}" && apt-get update -q && apt-get install -y -q --no-install-recommends --allow-change-held-packages "${with[@]}" && apt-mark hold "${pkgs[@]}"
}

# the kubelet restarted on VERSION and the node is Ready (5 minutes)
ready_on() {
  local deadline=$((SECONDS + 300)) s
  while :; do
    s=$(node_status)
    [ "$s" = "$1 True" ] && return 0
    ((SECONDS >= deadline)) && { echo "node $node not Ready on $1 after 5 minutes (the API shows: ${s:-nothing})"; return 1; }
    sleep 5
  done
}

# ---- CA rotation (trust-ca, reissue, drop-ca), as Kubernetes' manual CA rotation guide does it

# restart_components: every component that read a CA or certificate file at start; then the
# node Ready again (the API shows it through this node's own credentials)
restart_components() {
  if [ "$NODE_ROLE" = master ]; then
    systemctl restart etcd || { echo "restarting etcd failed"; return 1; }
  fi
  { systemctl daemon-reload && systemctl restart kubelet; } || { echo "restarting the kubelet failed"; return 1; }
  if [ "$NODE_ROLE" = master ]; then
    # the control plane's static pods: stopped, the kubelet starts them again on the new files
    local ids
    ids=$(crictl ps -q --name 'kube-apiserver|kube-controller-manager|kube-scheduler' 2>/dev/null || true)
    if [ -n "$ids" ]; then
      # shellcheck disable=SC2086
      crictl stop $ids >/dev/null || { echo "restarting the control plane failed"; return 1; }
    fi
  fi
  ready_on "$(current_version)"
}

# install_trust BUNDLE: BUNDLE (PEM, one CA or two) becomes what this node trusts, in every
# file and kubeconfig that holds the bay's CA, then the components restart on it
install_trust() {
  local bundle=$1 f data
  openssl x509 -in "$bundle" -noout 2>/dev/null || { echo "the CA bundle Bayforge sent is not a certificate"; return 1; }
  for f in "$BF_PKI/ca.crt" "$BF_PKI/front-proxy-ca.crt" "$BF_PKI/etcd/ca.crt"; do
    if [ -e "$f" ]; then { install -m 0644 "$bundle" "$f.new" && mv -f "$f.new" "$f"; } || { echo "could not write $f"; return 1; }; fi
  done
  data=$(base64 -w0 "$bundle")
  for f in /etc/kubernetes/*.conf; do
    if [ -e "$f" ]; then sed -i "s|^\( *certificate-authority-data:\).*|\1 $data|" "$f" || { echo "could not write $f"; return 1; }; fi
  done
  restart_components
}

# renew BASE SUBJECT EKU: BASE.key.new and BASE.crt.new, a new key and its certificate from
# the new CA, with BASE.crt's own names (its SANs; none for a kubeconfig's identity)
renew() {
  local base=$1 subject=$2 eku=$3 sans="" status
  if [ -e "$base.crt" ]; then
    sans=$(openssl x509 -in "$base.crt" -noout -ext subjectAltName 2>/dev/null | tail -n +2 | sed 's/IP Address:/IP:/g; s/ //g')
  fi
  (umask 077 && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$base.key.new") || { echo "could not make a key for $subject"; return 1; }
  local ext=(-addext "keyUsage=critical,digitalSignature" -addext "extendedKeyUsage=$eku")
  if [ -n "$sans" ]; then ext+=(-addext "subjectAltName=$sans"); fi
  openssl req -new -key "$base.key.new" -subj "$subject" "${ext[@]}" -out "$work/req.csr" || { echo "could not make a CSR for $subject"; return 1; }
  python3 -c 'import json,sys; print(json.dumps({"csr": open(sys.argv[1]).read()}))' "$work/req.csr" >"$work/req.json"
  status=$(signed POST "$path/certificates" "$work/req.json" "$work/req.out")
  [ "$status" = 201 ] || { echo "Bayforge did not sign $subject ($status: $(head -c 300 "$work/req.out" 2>/dev/null))"; return 1; }
  python3 -c 'import json,sys; sys.stdout.write(json.load(open(sys.argv[1]))["pem"])' "$work/req.out" >"$base.crt.new"
  openssl verify -CAfile "$BF_PKI/ca.crt" "$base.crt.new" >/dev/null || { echo "the certificate for $subject does not verify against the CAs this node trusts"; return 1; }
}

# reissue: every certificate of this node anew from the new CA, all signed before any is
# installed (a failure leaves the node on its old ones), then installed and the components
# restarted. The kubeconfigs that embed an identity get theirs in place.
reissue() {
  local pki=$BF_PKI kubelet=/var/lib/kubelet/pki f
  local files=("$kubelet/kubelet") kubeconfigs=()
  renew "$work/kubelet-client" "/O=system:nodes/CN=system:node:$node" clientAuth || return 1
  renew "$kubelet/kubelet" "/CN=$node" serverAuth || return 1
  if [ "$NODE_ROLE" = master ]; then
    renew "$pki/apiserver" "/CN=kube-apiserver" serverAuth || return 1
    renew "$pki/apiserver-kubelet-client" "/O=kubeadm:cluster-admins/CN=kube-apiserver-kubelet-client" clientAuth || return 1
    renew "$pki/front-proxy-client" "/CN=front-proxy-client" clientAuth || return 1
    renew "$pki/apiserver-etcd-client" "/CN=kube-apiserver-etcd-client" clientAuth || return 1
    renew "$pki/etcd/server" "/CN=$node" serverAuth,clientAuth || return 1
    renew "$pki/etcd/peer" "/CN=$node" serverAuth,clientAuth || return 1
    renew "$work/admin" "/O=kubeadm:cluster-admins/CN=kubernetes-admin" clientAuth || return 1
    renew "$work/controller-manager" "/CN=system:kube-controller-manager" clientAuth || return 1
    renew "$work/scheduler" "/CN=system:kube-scheduler" clientAuth || return 1
    files+=("$pki/apiserver" "$pki/apiserver-kubelet-client" "$pki/front-proxy-client" "$pki/apiserver-etcd-client" "$pki/etcd/server" "$pki/etcd/peer")
    kubeconfigs=(admin.conf:admin super-admin.conf:admin controller-manager.conf:controller-manager scheduler.conf:scheduler)
  else
    kubeconfigs=(discovery.conf:kubelet-client)
  fi
  for f in "${files[@]}"; do
    { mv -f "$f.key.new" "$f.key" && mv -f "$f.crt.new" "$f.crt"; } || { echo "could not install $f.crt"; return 1; }
  done
  { (umask 077 && cat "$work/kubelet-client.crt.new" "$work/kubelet-client.key.new" >"$kubelet/kubelet-client-current.pem.new") &&
    mv -f "$kubelet/kubelet-client-current.pem.new" "$kubelet/kubelet-client-current.pem"; } || { echo "could not install the kubelet's identity"; return 1; }
  for f in "${kubeconfigs[@]}"; do
    local file=/etc/kubernetes/${f%%:*} id=$work/${f#*:}
    [ -e "$file" ] || continue
    sed -i -e "s|^\( *client-certificate-data:\).*|\1 $(base64 -w0 "$id.crt.new")|" -e "s|^\( *client-key-data:\).*|\1 $(base64 -w0 "$id.key.new")|" "$file" ||
      { echo "could not write $file"; return 1; }
  done
  restart_components
}

# run ACTION VERSION: the command's steps; the first that fails names itself
run() {
  local action=$1 v=$2
  case $action in
    upgrade-apply | upgrade-node)
      install_kube kubeadm "$v" || { echo "installing kubeadm $v failed"; return 1; }
      # no CA key on the node (external CA): kubeadm must not try to renew certificates
      if [ "$action" = upgrade-apply ]; then
        kubeadm upgrade apply "$v" --yes --certificate-renewal=false || { echo "kubeadm upgrade apply $v failed"; return 1; }
      else
        kubeadm upgrade node --certificate-renewal=false || { echo "kubeadm upgrade node failed"; return 1; }
      fi
      install_kube kubelet kubectl "$v" || { echo "installing kubelet and kubectl $v failed"; return 1; }
      { systemctl daemon-reload && systemctl restart kubelet; } || { echo "restarting the kubelet failed"; return 1; }
      ready_on "$v" ;;
    uncordon)
      kubectl --kubeconfig /etc/kubernetes/kubelet.conf uncordon "$node" || { echo "kubectl uncordon $node failed"; return 1; } ;;
    trust-ca | drop-ca) install_trust "$work/ca.pem" ;;
    reissue) reissue ;;
    *) echo "unknown command $action"; return 1 ;;
  esac
}

status=$(signed GET "$path" /dev/null "$work/desired.json")
if [ "$status" != 200 ]; then
  log "Bayforge did not answer this node's desired state ($status: $(head -c 300 "$work/desired.json" 2>/dev/null)); trying again next run"
  exit 1
fi
read -r step cid action version < <(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
c = d.get("command") or {}
if c.get("ca_pem"):
    open(sys.argv[2], "w").write(c["ca_pem"])
print(d.get("step") or "idle", c.get("id") or "-", c.get("action") or "-", c.get("version") or "-")' "$work/desired.json" "$work/ca.pem") || exit 1

if [ "$cid" = - ]; then
  # in a rollout, waiting its turn: its version shows in the bay's views
  if [ "$step" != idle ]; then report idle; fi
  exit 0
fi
case $cid in *[!a-z0-9-]*) log "refusing a command id that is not Bayforge's"; exit 1 ;; esac
if [ -s "$state/done-$cid" ]; then
  # done before; Bayforge did not take the report yet
  read -r result reason <"$state/done-$cid"
  report "$result" "$cid" "$reason"
  exit
fi
log "$action $version (command $cid)"
report running "$cid" || true
if out=$(run "$action" "$version" 2>&1); then
  echo "succeeded" >"$state/done-$cid"
  log "$action $version: done"
  report succeeded "$cid"
else
  reason="$action on $node: $(printf '%s' "$out" | tail -n 3 | tr '\n' ' ' | cut -c1-400)"
  printf 'failed %s\n' "$reason" >"$state/done-$cid"
  log "FAILED: $reason"
  report failed "$cid" "$reason"
fi
printf '%s\n' "$out" | tail -n 40
AGENT_EOF
chmod 0755 /usr/local/sbin/bayforge-agent

cat >/etc/systemd/system/bayforge-agent.service <<'UNIT_EOF'
[Unit]
Description=Bayforge node agent: one look at this node's desired state
After=network-online.target kubelet.service

[Service]
Type=oneshot
ExecStart=/usr/local/sbin/bayforge-agent
UNIT_EOF
cat >/etc/systemd/system/bayforge-agent.timer <<'UNIT_EOF'
[Unit]
Description=Bayforge node agent, every 30 s

[Timer]
OnBootSec=30s
OnUnitInactiveSec=30s
RandomizedDelaySec=5s

[Install]
WantedBy=timers.target
UNIT_EOF
systemctl daemon-reload
systemctl enable --now bayforge-agent.timer
echo "install-node-agent: done"
