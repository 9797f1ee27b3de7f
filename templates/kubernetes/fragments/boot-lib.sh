#!/bin/bash
# Bayforge boot library: the functions every boot fragment uses. cloud-init runs each part
# of a node's user_data as a script of its own, in order, and runs the later parts even
# when one fails; so this part only installs itself, the parts after it source that copy,
# and a failing part records why in $BF_STATE/failed, which makes the rest skip and the
# last part (wc-notify.sh) signal FAILURE to Heat with that reason.
#
# Image family: Ubuntu 24.04 LTS cloud images (see README, "What runs on the nodes").

BF_LIB=/usr/local/lib/bayforge/boot-lib.sh
BF_STATE=/var/lib/bayforge
BF_LOG=/var/log/bayforge-boot.log
BF_PKI=/etc/kubernetes/pki

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  install -D -m 0644 "$0" "$BF_LIB"
  exit 0
fi

# bf_begin NAME: strict mode, the bay's parameters, a log, and the failure trap. Exits at
# once (successfully) when an earlier part failed: only the first failure is reported.
bf_begin() {
  BF_FRAGMENT=$1
  set -eEuo pipefail
  umask 022
  mkdir -p "$BF_STATE"
  exec > >(tee -a "$BF_LOG") 2>&1
  if [ -s "$BF_STATE/failed" ]; then
    echo "$BF_FRAGMENT: skipped, an earlier part failed: $(cat "$BF_STATE/failed")"
    exit 0
  fi
  # shellcheck source=/dev/null
  . /etc/sysconfig/heat-params
  bf_export_proxy
  mkdir -p "$BF_STATE/done"
  trap 'bf_on_error $? $LINENO "$BASH_COMMAND"' ERR
  trap 'bf_on_exit $?' EXIT
  echo "$BF_FRAGMENT: started $(date -u +%FT%TZ)"
}

bf_on_error() {
  bf_record "failed at line $2 (exit $1): ${3%%$'\n'*}"
}

# A part that ends well is marked done: wc-notify.sh reports SUCCESS only when the last
# one is, so a part killed on the way cannot pass for a finished boot.
bf_on_exit() {
  if [ "$1" = 0 ]; then touch "$BF_STATE/done/$BF_FRAGMENT"; else bf_record "exited with status $1"; fi
}

# bf_record REASON: keeps the first failure's reason (what wc-notify.sh sends to Heat).
bf_record() {
  if [ ! -s "$BF_STATE/failed" ]; then
    printf '%s: %s (node %s, log %s)\n' "$BF_FRAGMENT" "$1" "$(bf_node_name)" "$BF_LOG" | head -c 900 >"$BF_STATE/failed"
  fi
}

# bf_fail REASON: records a reason a user can act on and stops this part.
bf_fail() {
  bf_record "$*"
  echo "$BF_FRAGMENT: FAILED: $*" >&2
  exit 1
}

bf_true() {
  case "${1,,}" in true | yes | 1) return 0 ;; *) return 1 ;; esac
}

bf_node_name() {
  local name
  name=$(hostname -s 2>/dev/null || hostname)
  echo "${name,,}"
}

# The address nodes reach the Kubernetes API at: the API load balancer on 6443, or with
# tls_disabled (where the load balancer only serves kubernetes_port, the plain-HTTP proxy),
# the first master itself.
bf_api_host() {
  if bf_true "$TLS_DISABLED"; then
    if [ "$NODE_ROLE" = master ]; then echo "$KUBE_NODE_IP"; else echo "${KUBE_MASTER_IPS%%,*}"; fi
  elif [ "$NODE_ROLE" = master ]; then
    echo "$KUBE_API_PRIVATE_ADDRESS"
  else
    echo "$KUBE_MASTER_IP"
  fi
}

# Proxies for everything the fragments run (curl, apt, kubeadm); the cluster's own
# addresses never go through them.
bf_export_proxy() {
  local own="localhost,127.0.0.1,$KUBE_NODE_IP"
  own+=",${KUBE_API_PRIVATE_ADDRESS:-${KUBE_MASTER_IP:-}},${KUBE_MASTER_IPS:-}"
  own+=",${PORTAL_NETWORK_CIDR:-},${FLANNEL_NETWORK_CIDR:-},.svc,.cluster.local"
  BF_NO_PROXY=$(printf '%s' "${NO_PROXY:+$NO_PROXY,}$own" | tr ',' '\n' | awk 'NF && !seen[$0]++' | paste -sd, -)
  if [ -n "$HTTP_PROXY" ]; then export http_proxy="$HTTP_PROXY" HTTP_PROXY; fi
  if [ -n "$HTTPS_PROXY" ]; then export https_proxy="$HTTPS_PROXY" HTTPS_PROXY; fi
  export no_proxy="$BF_NO_PROXY" NO_PROXY="$BF_NO_PROXY"
}

# bf_wait SECONDS DESCRIPTION COMMAND...: runs COMMAND every 5 s until it succeeds.
bf_wait() {
  local seconds=$1 what=$2 deadline
  shift 2
  deadline=$((SECONDS + seconds))
  until "$@"; do
    if ((SECONDS >= deadline)); then bf_fail "$what did not happen within $seconds s"; fi
    sleep 5
  done
}

# ---------------------------------------------------------------- Bayforge's certificates API

# bf_bayforge METHOD PATH OUT [JSON_FILE]: calls magnum_url with the bay's bootstrap token.
# Retries what may pass (no answer, 409 CA not ready, 429, 5xx) for 10 minutes; a refusal
# (400, 401, 403, 404) fails the boot at once with Bayforge's own explanation.
bf_bayforge() {
  local method=$1 path=$2 out=$3 data=${4:-} status deadline=$((SECONDS + 600))
  local header="$BF_STATE/bayforge-auth"
  (umask 077 && printf 'X-Auth-Token: %s\n' "$USER_TOKEN" >"$header")
  local args=(-sS -o "$out" -w '%{http_code}' -X "$method" -H "@$header" -H 'Accept: application/json'
    --connect-timeout 10 --max-time 60)
  if [ -n "$data" ]; then args+=(-H 'Content-Type: application/json' --data-binary "@$data"); fi
  while :; do
    status=$(curl "${args[@]}" "$MAGNUM_URL$path") || status=000
    case $status in
      2??) return 0 ;;
      000 | 409 | 429 | 5??)
        if ((SECONDS >= deadline)); then
          bf_fail "Bayforge's certificates API at $MAGNUM_URL did not serve $method $path within 10 minutes (last answer: $status $(bf_error_detail "$out")). Check that the nodes can reach magnum_url and that Bayforge runs."
        fi
        sleep 5 ;;
      401 | 403)
        bf_fail "Bayforge refused the bay's bootstrap token: $method $MAGNUM_URL$path answered $status ($(bf_error_detail "$out")). The token is valid for the bay's create timeout plus 30 minutes; recreate the bay if it expired." ;;
      404)
        bf_fail "Bayforge does not know bay $BAY_UUID for this node's bootstrap token: $method $MAGNUM_URL$path answered 404 ($(bf_error_detail "$out")). The bay was deleted, or the token is another bay's." ;;
      *)
        bf_fail "Bayforge refused $method $MAGNUM_URL$path: $status ($(bf_error_detail "$out"))" ;;
    esac
  done
}

bf_error_detail() {
  python3 - "$1" <<'PY' 2>/dev/null || true
import json, sys
try:
    body = json.load(open(sys.argv[1]))
    print(body["errors"][0]["detail"])
except Exception:
    print(open(sys.argv[1], errors="replace").read(200).strip())
PY
}

# bf_fetch_ca: the bay's CA certificate (GET /v1/certificates/{bay}) as $BF_PKI/ca.crt.
bf_fetch_ca() {
  mkdir -p "$BF_PKI"
  bf_bayforge GET "/certificates/$BAY_UUID" "$BF_STATE/ca.json"
  python3 -c 'import json,sys; sys.stdout.write(json.load(open(sys.argv[1]))["pem"])' "$BF_STATE/ca.json" >"$BF_PKI/ca.crt"
  openssl x509 -in "$BF_PKI/ca.crt" -noout || bf_fail "GET /v1/certificates/$BAY_UUID did not return a PEM certificate"
}

# bf_sign_cert BASE SUBJECT EKU [SANS]: a new EC key BASE.key and its certificate BASE.crt,
# signed by the bay's CA through POST /v1/certificates. The CA key never leaves Bayforge.
bf_sign_cert() {
  local base=$1 subject=$2 eku=$3 sans=${4:-} csr request
  csr="$BF_STATE/csr/$(basename "$base").csr"
  request="$BF_STATE/csr/$(basename "$base").json"
  mkdir -p "$(dirname "$base")" "$BF_STATE/csr"
  (umask 077 && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$base.key")
  local ext=(-addext "keyUsage=critical,digitalSignature" -addext "extendedKeyUsage=$eku")
  if [ -n "$sans" ]; then ext+=(-addext "subjectAltName=$sans"); fi
  openssl req -new -key "$base.key" -subj "$subject" "${ext[@]}" -out "$csr"
  python3 -c 'import json,sys; print(json.dumps({"bay_uuid": sys.argv[1], "csr": open(sys.argv[2]).read()}))' \
    "$BAY_UUID" "$csr" >"$request"
  bf_bayforge POST /certificates "$request.signed" "$request"
  python3 -c 'import json,sys; sys.stdout.write(json.load(open(sys.argv[1]))["pem"])' "$request.signed" >"$base.crt"
  openssl verify -CAfile "$BF_PKI/ca.crt" "$base.crt" >/dev/null ||
    bf_fail "the certificate Bayforge signed for $subject does not verify against the bay's CA"
  echo "signed $base.crt: $subject"
}

# bf_write_kubeconfig FILE SERVER USER CREDENTIALS: a kubeconfig for USER with the CA
# embedded; CREDENTIALS are the lines under the user's `user:` (indented four spaces).
bf_write_kubeconfig() {
  local file=$1 server=$2 user=$3 credentials=$4
  (
    umask 077
    cat >"$file" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: kubernetes
  cluster:
    certificate-authority-data: $(base64 -w0 "$BF_PKI/ca.crt")
    server: $server
contexts:
- name: $user@kubernetes
  context:
    cluster: kubernetes
    user: $user
current-context: $user@kubernetes
users:
- name: $user
  user:
$credentials
EOF
  )
}

# bf_kubeconfig FILE SERVER USER CERT KEY: a kubeconfig with the CA, the client certificate
# and its key embedded (what kubeadm writes, and checks in external-CA mode).
bf_kubeconfig() {
  local cert=$4 key=$5
  bf_write_kubeconfig "$1" "$2" "$3" "    client-certificate-data: $(base64 -w0 "$cert")
    client-key-data: $(base64 -w0 "$key")"
}

# The kubelet's client identity (system:node:<name>, signed by Bayforge: in external-CA mode
# the controller-manager cannot sign the kubelet's own CSR) where kubeadm's kubelet.conf
# points, and its serving certificate where the kubelet looks for one.
bf_kubelet_certs() {
  local name dir=/var/lib/kubelet/pki
  name=$(bf_node_name)
  bf_sign_cert "$BF_STATE/kubelet-client" "/O=system:nodes/CN=system:node:$name" clientAuth
  mkdir -p "$dir"
  (umask 077 && cat "$BF_STATE/kubelet-client.crt" "$BF_STATE/kubelet-client.key" >"$dir/kubelet-client-current.pem")
  bf_sign_cert "$dir/kubelet" "/CN=$name" serverAuth "DNS:$name,IP:$KUBE_NODE_IP"
}

# bf_kubelet_kubeconfig FILE SERVER: kubelet.conf as kubeadm writes it, the client
# certificate and key in /var/lib/kubelet/pki/kubelet-client-current.pem.
bf_kubelet_kubeconfig() {
  local pem=/var/lib/kubelet/pki/kubelet-client-current.pem
  bf_write_kubeconfig "$1" "$2" "system:node:$(bf_node_name)" "    client-certificate: $pem
    client-key: $pem"
}

# kubeadm's bootstrap token and upload-certs key for the bay, derived from its bootstrap
# token so that every node of the stack computes the same ones and no one else can.
bf_kubeadm_token() {
  local h
  h=$(printf 'bayforge-kubeadm-token:%s' "$USER_TOKEN" | sha256sum)
  echo "${h:0:6}.${h:6:16}"
}

bf_certificate_key() {
  local h
  h=$(printf 'bayforge-kubeadm-certificate-key:%s' "$USER_TOKEN" | sha256sum)
  echo "${h:0:64}"
}

bf_ca_cert_hash() {
  local h
  h=$(openssl x509 -in "$BF_PKI/ca.crt" -pubkey -noout | openssl pkey -pubin -outform der | sha256sum)
  echo "sha256:${h:0:64}"
}
