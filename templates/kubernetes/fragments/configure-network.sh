#!/bin/bash
# Bayforge master boot: the pod network named by the baymodel's network_driver, applied
# once by the first master. flannel (Magnum's only Kubernetes driver) runs as a DaemonSet
# with the Kubernetes API as its subnet store: flannel_network_cidr is the pod network
# (kubeadm's podSubnet), flannel_network_subnetlen each node's share (the
# controller-manager's node-cidr-mask-size), and the backend is the flannel_backend label,
# else vxlan when flannel_use_vxlan is "true" and udp (Magnum's default) when not.
# shellcheck source=/dev/null
. /usr/local/lib/bayforge/boot-lib.sh
bf_begin configure-network

if [ "$MASTER_INDEX" != 0 ]; then
  echo "configure-network: the first master applies the pod network"
  exit 0
fi
case "$NETWORK_DRIVER" in
  flannel) ;;
  *) bf_fail "network_driver \"$NETWORK_DRIVER\" is not supported on these nodes (only flannel)" ;;
esac
backend=$FLANNEL_BACKEND
if [ -z "$backend" ]; then
  if bf_true "$FLANNEL_USE_VXLAN"; then backend=vxlan; else backend=udp; fi
fi
case "$backend" in
  vxlan | udp | host-gw | wireguard) ;;
  *) bf_fail "flannel_backend \"$backend\" is not one of vxlan, udp, host-gw, wireguard" ;;
esac
flannel_image="${CONTAINER_INFRA_PREFIX:-ghcr.io/flannel-io/}flannel:$FLANNEL_TAG"
cni_image="${CONTAINER_INFRA_PREFIX:-ghcr.io/flannel-io/}flannel-cni-plugin:v1.8.0-flannel1"

mkdir -p /etc/kubernetes/addons
manifest=/etc/kubernetes/addons/flannel.yaml
cat >"$manifest" <<YAML
# Written by Bayforge's boot fragments (configure-network.sh), after flannel's kube-flannel.yml.
apiVersion: v1
kind: Namespace
metadata:
  name: kube-flannel
  labels:
    k8s-app: flannel
    pod-security.kubernetes.io/enforce: privileged
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: flannel
  namespace: kube-flannel
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: flannel
rules:
- apiGroups: [""]
  resources: [pods]
  verbs: [get]
- apiGroups: [""]
  resources: [nodes]
  verbs: [get, list, watch]
- apiGroups: [""]
  resources: [nodes/status]
  verbs: [patch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: flannel
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: flannel
subjects:
- kind: ServiceAccount
  name: flannel
  namespace: kube-flannel
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: kube-flannel-cfg
  namespace: kube-flannel
  labels:
    k8s-app: flannel
data:
  cni-conf.json: |
    {
      "name": "cbr0",
      "cniVersion": "0.3.1",
      "plugins": [
        {"type": "flannel", "delegate": {"hairpinMode": true, "isDefaultGateway": true}},
        {"type": "portmap", "capabilities": {"portMappings": true}}
      ]
    }
  net-conf.json: |
    {
      "Network": "$FLANNEL_NETWORK_CIDR",
      "SubnetLen": $FLANNEL_NETWORK_SUBNETLEN,
      "Backend": {"Type": "$backend"}
    }
---
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: kube-flannel-ds
  namespace: kube-flannel
  labels:
    k8s-app: flannel
spec:
  selector:
    matchLabels:
      k8s-app: flannel
  template:
    metadata:
      labels:
        k8s-app: flannel
    spec:
      hostNetwork: true
      priorityClassName: system-node-critical
      serviceAccountName: flannel
      tolerations:
      - operator: Exists
        effect: NoSchedule
      nodeSelector:
        kubernetes.io/os: linux
      initContainers:
      - name: install-cni-plugin
        image: $cni_image
        command: [cp]
        args: [-f, /flannel, /opt/cni/bin/flannel]
        volumeMounts:
        - {name: cni-plugin, mountPath: /opt/cni/bin}
      - name: install-cni
        image: $flannel_image
        command: [cp]
        args: [-f, /etc/kube-flannel/cni-conf.json, /etc/cni/net.d/10-flannel.conflist]
        volumeMounts:
        - {name: cni, mountPath: /etc/cni/net.d}
        - {name: flannel-cfg, mountPath: /etc/kube-flannel/}
      containers:
      - name: kube-flannel
        image: $flannel_image
        command: [/opt/bin/flanneld]
        args: [--ip-masq, --kube-subnet-mgr]
        env:
        - name: POD_NAME
          valueFrom: {fieldRef: {fieldPath: metadata.name}}
        - name: POD_NAMESPACE
          valueFrom: {fieldRef: {fieldPath: metadata.namespace}}
        - name: EVENT_QUEUE_DEPTH
          value: "5000"
        resources:
          requests: {cpu: 100m, memory: 50Mi}
        securityContext:
          privileged: false
          capabilities: {add: [NET_ADMIN, NET_RAW]}
        volumeMounts:
        - {name: run, mountPath: /run/flannel}
        - {name: flannel-cfg, mountPath: /etc/kube-flannel/}
        - {name: xtables-lock, mountPath: /run/xtables.lock}
      volumes:
      - {name: run, hostPath: {path: /run/flannel}}
      - {name: cni-plugin, hostPath: {path: /opt/cni/bin}}
      - {name: cni, hostPath: {path: /etc/cni/net.d}}
      - {name: flannel-cfg, configMap: {name: kube-flannel-cfg}}
      - {name: xtables-lock, hostPath: {path: /run/xtables.lock, type: FileOrCreate}}
YAML

kubectl --kubeconfig /etc/kubernetes/admin.conf apply -f "$manifest" ||
  bf_fail "kubectl apply of the flannel pod network failed (see $BF_LOG)"
echo "configure-network: done"
