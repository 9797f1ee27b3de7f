#!/bin/bash
# Bayforge minion boot, part 1: the bay's parameters. Heat replaces every $NAME placeholder
# below (str_replace in kubeminion.yaml) before the server boots; the later parts source
# /etc/sysconfig/heat-params (Magnum's path). It holds the bay's bootstrap token: root only.
set -eu
mkdir -p /etc/sysconfig
umask 077
cat > /etc/sysconfig/heat-params <<'HEAT_PARAMS_EOF'
NODE_ROLE="minion"
KUBE_ALLOW_PRIV="$KUBE_ALLOW_PRIV"
KUBE_MASTER_IP="$KUBE_MASTER_IP"
KUBE_MASTER_IPS="$KUBE_MASTER_IPS"
KUBE_API_PORT="$KUBE_API_PORT"
KUBE_NODE_IP="$KUBE_NODE_IP"
KUBE_TAG="$KUBE_TAG"
KUBE_APT_MIRROR="$KUBE_APT_MIRROR"
CONTAINER_INFRA_PREFIX="$CONTAINER_INFRA_PREFIX"
INSECURE_REGISTRY_URL="$INSECURE_REGISTRY_URL"
ETCD_SERVER_IP="$ETCD_SERVER_IP"
DOCKER_VOLUME="$DOCKER_VOLUME"
NETWORK_DRIVER="$NETWORK_DRIVER"
REGISTRY_ENABLED="$REGISTRY_ENABLED"
REGISTRY_PORT="$REGISTRY_PORT"
TLS_DISABLED="$TLS_DISABLED"
BAY_UUID="$BAY_UUID"
USER_TOKEN="$USER_TOKEN"
MAGNUM_URL="$MAGNUM_URL"
HTTP_PROXY="$HTTP_PROXY"
HTTPS_PROXY="$HTTPS_PROXY"
NO_PROXY="$NO_PROXY"
NODE_LABELS="$NODE_LABELS"
NODE_TAINTS="$NODE_TAINTS"
HEAT_PARAMS_EOF
chmod 0600 /etc/sysconfig/heat-params
