#!/bin/sh
# Bayforge minion boot script, part 1 (templates/kubernetes/fragments/). Heat replaces
# every $NAME placeholder below (str_replace in kubeminion.yaml) before the server boots;
# the boot fragments source /etc/sysconfig/heat-params.
set -e
mkdir -p /etc/sysconfig
umask 077
cat > /etc/sysconfig/heat-params <<'HEAT_PARAMS_EOF'
KUBE_ALLOW_PRIV="$KUBE_ALLOW_PRIV"
KUBE_MASTER_IP="$KUBE_MASTER_IP"
KUBE_API_PORT="$KUBE_API_PORT"
KUBE_NODE_IP="$KUBE_NODE_IP"
ETCD_SERVER_IP="$ETCD_SERVER_IP"
DOCKER_VOLUME="$DOCKER_VOLUME"
NETWORK_DRIVER="$NETWORK_DRIVER"
REGISTRY_ENABLED="$REGISTRY_ENABLED"
REGISTRY_PORT="$REGISTRY_PORT"
REGISTRY_AUTH_URL="$REGISTRY_AUTH_URL"
REGISTRY_REGION="$REGISTRY_REGION"
REGISTRY_USERNAME="$REGISTRY_USERNAME"
REGISTRY_PASSWORD="$REGISTRY_PASSWORD"
REGISTRY_DOMAIN="$REGISTRY_DOMAIN"
REGISTRY_TRUST_ID="$REGISTRY_TRUST_ID"
REGISTRY_CONTAINER="$REGISTRY_CONTAINER"
REGISTRY_INSECURE="$REGISTRY_INSECURE"
REGISTRY_CHUNKSIZE="$REGISTRY_CHUNKSIZE"
TLS_DISABLED="$TLS_DISABLED"
BAY_UUID="$BAY_UUID"
USER_TOKEN="$USER_TOKEN"
MAGNUM_URL="$MAGNUM_URL"
HTTP_PROXY="$HTTP_PROXY"
HTTPS_PROXY="$HTTPS_PROXY"
NO_PROXY="$NO_PROXY"
WAIT_CURL="$WAIT_CURL"
HEAT_PARAMS_EOF
chmod 0600 /etc/sysconfig/heat-params

# Boot fragments (flannel, docker storage and registry, certificates, kubelet,
# kube-proxy) are to come here, before the wait condition is signalled.
