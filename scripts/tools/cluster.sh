#!/usr/bin/env bash
# A real single-node Kubernetes on this machine, from the pinned binaries of scripts/tools/install.sh
# (kubernetes built from source; Debian's etcd, containerd, runc and CNI plugins), for the cluster
# tests and for trying the chart without a cloud. Everything it makes lives under one folder and
# on addresses of its own: the node address is added to lo, pods get a bridge of their own.
#
#   scripts/tools/cluster.sh up        # starts it (idempotent); prints KUBECONFIG=...
#   scripts/tools/cluster.sh down      # stops it and removes everything it made
#   scripts/tools/cluster.sh status    # exit 0 when the API server answers
#   scripts/tools/cluster.sh env       # the KUBECONFIG and REGISTRY lines, nothing started
#
# Images reach the node as users send them: pushed to the cluster's registry (the CNCF
# distribution registry, on 127.0.0.1:<port>, plain HTTP, which Docker allows for loopback), from
# which the node's containerd pulls: `docker push $REGISTRY/meridian/service-a:dev`. It also mirrors
# docker.io and quay.io, so an image pushed as $REGISTRY/library/traefik:<tag> runs as `traefik:<tag>`.
#
# Settings (environment): MERIDIAN_CLUSTER_DIR (default ~/.cache/meridian/tools/cluster),
# CLUSTER_NODE_IP (172.31.255.1, added to lo), CLUSTER_POD_CIDR (10.244.0.0/24),
# CLUSTER_SERVICE_CIDR (10.96.0.0/24). Needs root, as kubelet and containerd do.
#
# A test cluster, simply made: one certificate authority, and one client certificate in group
# system:masters that every component uses; etcd without TLS on 127.0.0.1. Not for anything else.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "$SCRIPT_DIR/versions.env"
TOOLS_DIR="${MERIDIAN_TOOLS_DIR:-$HOME/.cache/meridian/tools}"
DIR="${MERIDIAN_CLUSTER_DIR:-$TOOLS_DIR/cluster}"
K8S="$TOOLS_DIR/kubernetes-$KUBERNETES_VERSION"
NODE_IP="${CLUSTER_NODE_IP:-172.31.255.1}"
POD_CIDR="${CLUSTER_POD_CIDR:-10.244.0.0/24}"
SERVICE_CIDR="${CLUSTER_SERVICE_CIDR:-10.96.0.0/24}"
NODE_NAME=meridian-node
BRIDGE=meridian0
KUBECONFIG_FILE="$DIR/admin.kubeconfig"

die() { echo "✗ cluster.sh: $*" >&2; exit 1; }
info() { echo "==> $*"; }
ok() { echo "✓ $*"; }
elapsed() { local s=$(( $(date +%s) - $1 )); printf '%ds' "$s"; }

# The first address of a CIDR plus N (a /24 or wider is assumed).
cidr_ip() { local base="${1%/*}"; local a b c d; IFS=. read -r a b c d <<<"$base"; echo "$a.$b.$c.$((d + $2))"; }
API_SERVICE_IP="$(cidr_ip "$SERVICE_CIDR" 1)"
DNS_IP="$(cidr_ip "$SERVICE_CIDR" 10)"
COREDNS="$TOOLS_DIR/coredns-$COREDNS_VERSION/coredns"
REGISTRY_BIN="$TOOLS_DIR/registry-$REGISTRY_VERSION/registry"

# `cmd | grep -q` is not used with pipefail: grep ends at its first match, the writer may die of
# SIGPIPE, and the pipeline then fails although it matched. Outputs are captured first instead.
has_node_ip() { [[ " $(ip -o addr show dev lo) " == *" $NODE_IP/32 "* ]]; }

free_port() {
  local p
  for p in $(shuf -i 20000-60999 -n 64); do
    if [[ -z "$(ss -Hltn "sport = :$p")" ]]; then echo "$p"; return; fi
  done
  die "no free port found"
}

# Ports are chosen once per cluster folder and kept, so `up` after `up` finds the same cluster.
ports() {
  if [[ ! -f "$DIR/ports.env" ]]; then
    {
      echo "API_PORT=$(free_port)"; echo "ETCD_PORT=$(free_port)"; echo "ETCD_PEER_PORT=$(free_port)"
      echo "KUBELET_PORT=$(free_port)"; echo "KUBELET_HEALTHZ_PORT=$(free_port)"
      echo "CM_PORT=$(free_port)"; echo "SCHED_PORT=$(free_port)"
      echo "PROXY_HEALTHZ_PORT=$(free_port)"; echo "PROXY_METRICS_PORT=$(free_port)"
      echo "REGISTRY_PORT=$(free_port)"
    } >"$DIR/ports.env"
  fi
  # shellcheck disable=SC1091
  source "$DIR/ports.env"
}

kubectl_() { kubectl --kubeconfig "$KUBECONFIG_FILE" "$@"; }
answers() { [[ -f "$KUBECONFIG_FILE" ]] && kubectl_ get --raw /readyz >/dev/null 2>&1; }

prerequisites() {
  [[ "$(id -u)" == 0 ]] || die "needs root (kubelet, containerd and the pod network do)"
  local b
  [[ -x "$REGISTRY_BIN" ]] || die "$REGISTRY_BIN is missing: run scripts/tools/install.sh cluster"
  for b in kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy pause; do
    [[ -x "$K8S/$b" ]] || die "$K8S/$b is missing: run scripts/tools/install.sh cluster"
  done
  for b in etcd containerd containerd-shim-runc-v2 runc openssl kubectl iptables ip curl; do
    command -v "$b" >/dev/null 2>&1 || die "$b not found: run scripts/tools/install.sh cluster"
  done
  [[ -x /usr/lib/cni/bridge ]] || die "the CNI plugins are missing: run scripts/tools/install.sh cluster"
  [[ -x "$COREDNS" ]] || die "$COREDNS is missing: run scripts/tools/install.sh cluster"
}

# ---------------------------------------------------------------- certificates
cert() { # cert NAME CN [O] [SANs]: a key and a certificate signed by the cluster CA
  local name="$1" cn="$2" o="${3:-}" sans="${4:-}" subj="/CN=$2"
  [[ -f "$DIR/pki/$name.crt" ]] && return 0
  [[ -n "$o" ]] && subj="/O=$o/CN=$cn"
  openssl req -new -newkey rsa:2048 -nodes -subj "$subj" -keyout "$DIR/pki/$name.key" -out "$DIR/pki/$name.csr" 2>/dev/null
  local ext="$DIR/pki/$name.ext"
  { echo "basicConstraints=CA:FALSE"; echo "keyUsage=digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=serverAuth,clientAuth"; [[ -n "$sans" ]] && echo "subjectAltName=$sans"; } >"$ext"
  openssl x509 -req -in "$DIR/pki/$name.csr" -CA "$DIR/pki/ca.crt" -CAkey "$DIR/pki/ca.key" -CAcreateserial \
    -days 30 -extfile "$ext" -out "$DIR/pki/$name.crt" 2>/dev/null
  rm -f "$DIR/pki/$name.csr" "$ext"
}

pki() {
  mkdir -p "$DIR/pki"
  if [[ ! -f "$DIR/pki/ca.crt" ]]; then
    openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=meridian-cluster-ca" \
      -keyout "$DIR/pki/ca.key" -out "$DIR/pki/ca.crt" 2>/dev/null
  fi
  cert apiserver kube-apiserver "" "IP:$NODE_IP,IP:127.0.0.1,IP:$API_SERVICE_IP,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,DNS:localhost"
  cert kubelet "system:node:$NODE_NAME" system:nodes "IP:$NODE_IP,DNS:$NODE_NAME"
  cert admin admin system:masters
  [[ -f "$DIR/pki/sa.key" ]] || { openssl genrsa -out "$DIR/pki/sa.key" 2048 2>/dev/null; openssl rsa -in "$DIR/pki/sa.key" -pubout -out "$DIR/pki/sa.pub" 2>/dev/null; }
  kubectl config --kubeconfig "$KUBECONFIG_FILE" set-cluster meridian --server "https://$NODE_IP:$API_PORT" \
    --certificate-authority "$DIR/pki/ca.crt" --embed-certs >/dev/null
  kubectl config --kubeconfig "$KUBECONFIG_FILE" set-credentials admin --client-certificate "$DIR/pki/admin.crt" \
    --client-key "$DIR/pki/admin.key" --embed-certs >/dev/null
  kubectl config --kubeconfig "$KUBECONFIG_FILE" set-context meridian --cluster meridian --user admin >/dev/null
  kubectl config --kubeconfig "$KUBECONFIG_FILE" use-context meridian >/dev/null
}

# ---------------------------------------------------------------- processes
# start NAME CMD...: in the background, its output in logs/NAME.log, its pid in run/NAME.pid.
start() {
  local name="$1"; shift
  if [[ -f "$DIR/run/$name.pid" ]] && kill -0 "$(cat "$DIR/run/$name.pid")" 2>/dev/null; then return 0; fi
  setsid "$@" >>"$DIR/logs/$name.log" 2>&1 < /dev/null &
  echo $! >"$DIR/run/$name.pid"
}

wait_for() { # wait_for WHAT SECONDS CMD...
  local what="$1" secs="$2"; shift 2
  local until=$(( $(date +%s) + secs ))
  until "$@" >/dev/null 2>&1; do
    if (( $(date +%s) > until )); then die "$what did not come up within ${secs} s (logs: $DIR/logs)"; fi
    sleep 0.5
  done
}

write_configs() {
  mkdir -p "$DIR/cni/net.d" "$DIR/containerd" "$DIR/kubelet"
  cat >"$DIR/cni/net.d/10-meridian.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "meridian",
  "plugins": [
    { "type": "bridge", "bridge": "$BRIDGE", "isGateway": true, "ipMasq": false, "hairpinMode": true,
      "ipam": { "type": "host-local", "ranges": [[{ "subnet": "$POD_CIDR" }]], "routes": [{ "dst": "0.0.0.0/0" }],
                "dataDir": "$DIR/cni/ipam" } },
    { "type": "portmap", "capabilities": { "portMappings": true } }
  ]
}
EOF
  # restrict_oom_score_adj: the machine lacks CAP_SYS_RESOURCE; without it runc cannot start pods.
  cat >"$DIR/containerd/config.toml" <<EOF
version = 2
root = "$DIR/containerd/root"
state = "$DIR/containerd/state"
[grpc]
  address = "$DIR/containerd/containerd.sock"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "meridian.local/pause:$KUBERNETES_VERSION"
  restrict_oom_score_adj = true
  # Where to pull from: certs.d/<registry>/hosts.toml (the cluster's registry, plain HTTP).
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "$DIR/containerd/certs.d"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$DIR/cni/net.d"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    default_runtime_name = "runc"
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
    runtime_type = "io.containerd.runc.v2"
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
    SystemdCgroup = false
EOF
  mkdir -p "$DIR/containerd/certs.d/127.0.0.1:$REGISTRY_PORT" "$DIR/registry"
  cat >"$DIR/containerd/certs.d/127.0.0.1:$REGISTRY_PORT/hosts.toml" <<EOF
server = "http://127.0.0.1:$REGISTRY_PORT"
[host."http://127.0.0.1:$REGISTRY_PORT"]
  capabilities = ["pull", "resolve"]
EOF
  # Docker Hub and quay.io names (docker.io/<name>, quay.io/<name>) pull from the same registry:
  # where nothing can be pulled from them, the stand-ins of scripts/images/standins.sh pushed there
  # under their upstream names (library/traefik, prometheus-operator/prometheus-operator, ...) run
  # as manifests name them.
  local hub upstream
  for hub in docker.io quay.io; do
    upstream="https://$hub"; [[ $hub == docker.io ]] && upstream="https://registry-1.docker.io"
    mkdir -p "$DIR/containerd/certs.d/$hub"
    cat >"$DIR/containerd/certs.d/$hub/hosts.toml" <<EOF
server = "$upstream"
[host."http://127.0.0.1:$REGISTRY_PORT"]
  capabilities = ["pull", "resolve"]
EOF
  done
  cat >"$DIR/registry/config.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $DIR/registry/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$REGISTRY_PORT
EOF
  cat >"$DIR/kubelet/config.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $NODE_IP
port: $KUBELET_PORT
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $KUBELET_HEALTHZ_PORT
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
containerRuntimeEndpoint: unix://$DIR/containerd/containerd.sock
authentication:
  anonymous: { enabled: false }
  webhook: { enabled: true }
  x509: { clientCAFile: $DIR/pki/ca.crt }
authorization: { mode: Webhook }
tlsCertFile: $DIR/pki/kubelet.crt
tlsPrivateKeyFile: $DIR/pki/kubelet.key
clusterDomain: cluster.local
clusterDNS: [$DNS_IP]
# A shared machine's disk and memory: no evictions of the test's pods.
evictionHard: { memory.available: "1Mi", nodefs.available: "1%", imagefs.available: "1%", nodefs.inodesFree: "1%" }
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
serializeImagePulls: false
EOF
  cat >"$DIR/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: { kubeconfig: $KUBECONFIG_FILE }
mode: iptables
clusterCIDR: $POD_CIDR
bindAddress: 127.0.0.1
healthzBindAddress: 127.0.0.1:$PROXY_HEALTHZ_PORT
metricsBindAddress: 127.0.0.1:$PROXY_METRICS_PORT
# Pods reach Service IPs of pods on the same bridge: masquerade so that replies come back through the host.
iptables: { masqueradeAll: true }
# Leave the machine's conntrack settings alone.
conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s }
EOF
}

up() {
  prerequisites
  mkdir -p "$DIR/logs" "$DIR/run"
  if answers && [[ -f "$DIR/run/kubelet.pid" ]] && kill -0 "$(cat "$DIR/run/kubelet.pid")" 2>/dev/null; then
    env_lines; return 0
  fi
  local all t
  all=$(date +%s)
  ports
  t=$(date +%s); pki; write_configs; ok "certificates and configs ($(elapsed "$t"))"
  # The node address on lo: pods reach the API server there (a Service endpoint cannot be 127.0.0.1).
  has_node_ip || ip addr add "$NODE_IP/32" dev lo
  touch "$DIR/run/node-ip"
  # Network namespaces that are not this cluster's: down leaves them alone.
  [[ -f "$DIR/run/netns-before" ]] || ip netns list 2>/dev/null | awk '{ print $1 }' >"$DIR/run/netns-before"

  t=$(date +%s)
  start etcd etcd --name meridian --data-dir "$DIR/etcd" \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "meridian=http://127.0.0.1:$ETCD_PEER_PORT"
  start containerd containerd --config "$DIR/containerd/config.toml"
  start registry "$REGISTRY_BIN" serve "$DIR/registry/config.yml"
  start kube-apiserver "$K8S/kube-apiserver" --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
    --bind-address "$NODE_IP" --advertise-address "$NODE_IP" --secure-port "$API_PORT" \
    --service-cluster-ip-range "$SERVICE_CIDR" --client-ca-file "$DIR/pki/ca.crt" \
    --tls-cert-file "$DIR/pki/apiserver.crt" --tls-private-key-file "$DIR/pki/apiserver.key" \
    --kubelet-client-certificate "$DIR/pki/admin.crt" --kubelet-client-key "$DIR/pki/admin.key" \
    --kubelet-preferred-address-types InternalIP,Hostname \
    --service-account-key-file "$DIR/pki/sa.pub" --service-account-signing-key-file "$DIR/pki/sa.key" \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --authorization-mode Node,RBAC --profiling=false
  wait_for "the API server" 90 kubectl_ get --raw /readyz
  wait_for "the registry" 30 curl -fsS "http://127.0.0.1:$REGISTRY_PORT/v2/"
  ok "etcd, containerd, the registry and the API server ($(elapsed "$t"))"

  t=$(date +%s)
  start kube-controller-manager "$K8S/kube-controller-manager" --kubeconfig "$KUBECONFIG_FILE" \
    --authentication-kubeconfig "$KUBECONFIG_FILE" --authorization-kubeconfig "$KUBECONFIG_FILE" \
    --bind-address 127.0.0.1 --secure-port "$CM_PORT" --leader-elect=false \
    --service-account-private-key-file "$DIR/pki/sa.key" --root-ca-file "$DIR/pki/ca.crt" \
    --use-service-account-credentials --service-cluster-ip-range "$SERVICE_CIDR" --profiling=false
  start kube-scheduler "$K8S/kube-scheduler" --kubeconfig "$KUBECONFIG_FILE" \
    --authentication-kubeconfig "$KUBECONFIG_FILE" --authorization-kubeconfig "$KUBECONFIG_FILE" \
    --bind-address 127.0.0.1 --secure-port "$SCHED_PORT" --leader-elect=false --profiling=false
  # The pause image of the pod sandboxes (the module's own pause.c) and CoreDNS's: static binaries.
  wait_for containerd 30 ctr --address "$DIR/containerd/containerd.sock" version
  binary_image "$K8S/pause" "meridian.local/pause:$KUBERNETES_VERSION" '["/pause"]'
  binary_image "$COREDNS" "meridian.local/coredns:$COREDNS_VERSION" '["/coredns"]'
  start kubelet "$K8S/kubelet" --config "$DIR/kubelet/config.yaml" --kubeconfig "$KUBECONFIG_FILE" \
    --root-dir "$DIR/kubelet/root" --hostname-override "$NODE_NAME" --node-ip "$NODE_IP"
  start kube-proxy "$K8S/kube-proxy" --config "$DIR/kube-proxy.yaml" --hostname-override "$NODE_NAME"
  wait_for "the node" 120 kubectl_ wait --for=condition=Ready "node/$NODE_NAME" --timeout=2s
  # The first apply needs the default ServiceAccount, which the controller manager makes.
  wait_for "the default ServiceAccount" 60 kubectl_ get serviceaccount default
  ok "controller manager, scheduler, kubelet, kube-proxy; node $NODE_NAME Ready ($(elapsed "$t"))"
  t=$(date +%s)
  sed -e "s|\${CLUSTER_DNS_IP}|$DNS_IP|g" -e "s|\${COREDNS_IMAGE}|meridian.local/coredns:$COREDNS_VERSION|g" \
    "$SCRIPT_DIR/cluster/coredns.yaml" | kubectl_ apply -f - >/dev/null
  wait_for CoreDNS 120 kubectl_ -n kube-system rollout status deployment/coredns --timeout=2s
  ok "CoreDNS at $DNS_IP ($(elapsed "$t"))"
  ok "cluster up in $(elapsed "$all"): Kubernetes $KUBERNETES_VERSION at https://$NODE_IP:$API_PORT"
  env_lines
}

# binary_image BINARY REF ENTRYPOINT-JSON: a one-file image in the node's containerd, unless there.
binary_image() {
  local ctrc=(ctr --address "$DIR/containerd/containerd.sock" -n k8s.io)
  [[ $'\n'"$("${ctrc[@]}" images ls -q)"$'\n' == *$'\n'"$2"$'\n'* ]] && return 0
  local ctx; ctx="$(mktemp -d "$DIR/image.XXXXXX")"
  cp "$1" "$ctx/$(basename "$1")"
  tar -C "$ctx" -cf "$ctx/rootfs.tar" "$(basename "$1")"
  "$SCRIPT_DIR/../images/oci-archive.sh" "$ctx/rootfs.tar" "$2" "$3" "$ctx/image.tar"
  "${ctrc[@]}" images import "$ctx/image.tar" >/dev/null || die "importing $2 into containerd failed"
  rm -rf "$ctx"
}

remove_chains() {
  local ipt table rule chain
  for ipt in iptables ip6tables; do
    command -v "$ipt" >/dev/null 2>&1 || continue
    for table in filter nat mangle; do
      "$ipt" -t "$table" -S >/dev/null 2>&1 || continue
      # Rules that jump to them, in any chain; -S prints each as the arguments that made it.
      while read -r rule; do
        eval "$ipt -t $table ${rule/#-A/-D}" 2>/dev/null || true
      done < <("$ipt" -t "$table" -S | grep -E '^-A .* -j (KUBE|CNI)-' || true)
      for chain in $("$ipt" -t "$table" -S | awk '$1 == "-N" && $2 ~ /^(KUBE|CNI)-/ { print $2 }'); do "$ipt" -t "$table" -F "$chain" 2>/dev/null || true; done
      for chain in $("$ipt" -t "$table" -S | awk '$1 == "-N" && $2 ~ /^(KUBE|CNI)-/ { print $2 }'); do "$ipt" -t "$table" -X "$chain" 2>/dev/null || true; done
    done
  done
}

stop_pid() { # stop_pid NAME: SIGTERM, then SIGKILL after 10 s
  local f="$DIR/run/$1.pid" pid i
  [[ -f "$f" ]] || return 0
  pid="$(cat "$f")"
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for i in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}

down() {
  if [[ ! -d "$DIR" ]]; then remove_chains; ok "no cluster at $DIR"; return 0; fi
  local t; t=$(date +%s)
  stop_pid kubelet
  stop_pid kube-proxy
  # The pods' processes: their shims belong to this containerd (its socket is in their command line).
  local pid
  for pid in $(pgrep -f "containerd-shim-runc-v2 .*-address $DIR/containerd/containerd.sock" || true); do
    pkill -9 -P "$pid" 2>/dev/null || true
    kill -9 "$pid" 2>/dev/null || true
  done
  stop_pid containerd
  stop_pid kube-scheduler
  stop_pid kube-controller-manager
  stop_pid kube-apiserver
  stop_pid registry
  stop_pid etcd
  # kube-proxy's iptables chains and rules, then what is left of the kubelet's (KUBE-FIREWALL, the
  # canaries) and of the CNI portmap plugin (CNI-*): no other cluster runs on this machine.
  [[ -x "$K8S/kube-proxy" ]] && "$K8S/kube-proxy" --cleanup >/dev/null 2>&1 || true
  remove_chains
  # Network namespaces of the pods (CNI named them cni-*; theirs point into this folder's state).
  local ns
  for ns in $(ip netns list 2>/dev/null | awk '$1 ~ /^cni-/ { print $1 }'); do
    if [[ -f "$DIR/run/netns-before" ]] && grep -qx "$ns" "$DIR/run/netns-before"; then continue; fi
    ip netns delete "$ns" 2>/dev/null || true
  done
  ip link show "$BRIDGE" >/dev/null 2>&1 && ip link delete "$BRIDGE" || true
  if [[ -f "$DIR/run/node-ip" ]] && has_node_ip; then ip addr del "$NODE_IP/32" dev lo || true; fi
  # Mounts under the folder (containerd's snapshots, the kubelet's volumes), deepest first.
  local m
  for m in $(awk -v d="$DIR" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r); do umount -l "$m" 2>/dev/null || true; done
  # The kubelet's cgroups (cgroupfs driver): kubepods under each controller.
  local c
  for c in /sys/fs/cgroup/*/kubepods; do
    [[ -d "$c" ]] && find "$c" -depth -type d -exec rmdir {} \; 2>/dev/null || true
  done
  rm -rf "$DIR"
  ok "cluster removed ($(elapsed "$t"))"
}

env_lines() {
  echo "KUBECONFIG=$KUBECONFIG_FILE"
  [[ -f "$DIR/ports.env" ]] && echo "REGISTRY=127.0.0.1:$(sed -n 's/^REGISTRY_PORT=//p' "$DIR/ports.env")"
  return 0
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) answers && { env_lines; exit 0; } || exit 1 ;;
  env) env_lines ;;
  *) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
