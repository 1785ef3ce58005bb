#!/usr/bin/env bash
# Installs Meridian's telemetry platform into namespace `observability` with the upstream charts,
# each at a pinned version, with the values files beside this script:
#
#   opensearch              opensearch/opensearch                       opensearch.yaml
#   kube-prometheus-stack   prometheus-community/kube-prometheus-stack  kube-prometheus-stack.yaml
#   jaeger                  jaegertracing/jaeger                        jaeger.yaml
#   otel-collector-gateway  open-telemetry/opentelemetry-collector      otel-collector-gateway.yaml
#                                                                       + otel-collector-gateway-k8s-attributes.yaml
#   otel-collector-agent    open-telemetry/opentelemetry-collector      otel-collector-agent.yaml
#   fluent-bit              fluent/fluent-bit                           fluent-bit.yaml
#
# The same releases, names, versions and values files as deploy/terraform/platform.tf, which
# installs them on EKS during `terraform apply`: use this script for any other cluster (or to
# re-apply the values without Terraform). tests/deploy/helm.test.ts checks the versions agree.
#
#   deploy/helm/platform/install.sh             # install or upgrade everything, waiting for each
#   deploy/helm/platform/install.sh --dry-run   # print the commands, run nothing
#
# Order matters: OpenSearch before its clients; kube-prometheus-stack first among the rest, since
# it installs the CRDs (ServiceMonitor, PrometheusRule) that the app chart creates objects of.
# Also creates, once, the Secret holding the edge's OTLP bearer token (the gateway reads it as
# EDGE_OTLP_TOKEN); an existing one is kept.
#
# Environment (all optional; deploy/terraform's outputs on EKS):
#   NAMESPACE                 observability
#   COLLECTOR_IRSA_ROLE_ARN   collector_irsa_role_arn: IRSA role on the collectors' ServiceAccounts
#   AMP_REMOTE_WRITE_URL      amp_remote_write_url: Prometheus also remote-writes there (SigV4)
#   AWS_REGION                region, for the SigV4 signature (required with AMP_REMOTE_WRITE_URL)
#   HELM_TIMEOUT              10m, per release
#
# Needs helm 3 and kubectl pointing at the cluster (on EKS: terraform output -raw kubeconfig_command).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# Chart versions: keep equal to chart_versions in deploy/terraform/platform.tf (bump both
# deliberately; `helm search repo <repo>/<chart> --versions` lists them).
OPENSEARCH_CHART_VERSION=2.23.1
KUBE_PROMETHEUS_STACK_CHART_VERSION=88.3.0
JAEGER_CHART_VERSION=4.1.5
OTEL_COLLECTOR_CHART_VERSION=0.142.0
FLUENT_BIT_CHART_VERSION=0.54.0

NAMESPACE="${NAMESPACE:-observability}"
HELM_TIMEOUT="${HELM_TIMEOUT:-10m}"
TOKEN_SECRET=meridian-edge-otlp-token

DRY_RUN=0
for arg in "$@"; do
  case "$arg" in
    --dry-run) DRY_RUN=1 ;;
    -h|--help) sed -n '2,32p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "install.sh: unknown argument: $arg (try --help)" >&2; exit 2 ;;
  esac
done

# run <command...>: print it (shell-quoted), then run it unless --dry-run.
run() {
  local out="" a
  for a in "$@"; do out+=" $(printf '%q' "$a")"; done
  echo "+${out}"
  if [[ $DRY_RUN == 0 ]]; then "$@"; fi
}

# release <name> <chart> <version> <values file> [extra helm args...]
release() {
  local name="$1" chart="$2" version="$3" values="$4"; shift 4
  run helm upgrade --install "$name" "$chart" --version "$version" \
    --namespace "$NAMESPACE" --create-namespace \
    --values "$HERE/$values" "$@" \
    --wait --timeout "$HELM_TIMEOUT"
}

if [[ $DRY_RUN == 0 ]]; then
  command -v helm >/dev/null || { echo "install.sh: helm not found (scripts/tools/install.sh helm builds it)" >&2; exit 1; }
  command -v kubectl >/dev/null || { echo "install.sh: kubectl not found" >&2; exit 1; }
fi

run helm repo add opensearch https://opensearch-project.github.io/helm-charts --force-update
run helm repo add prometheus-community https://prometheus-community.github.io/helm-charts --force-update
run helm repo add jaegertracing https://jaegertracing.github.io/helm-charts --force-update
run helm repo add open-telemetry https://open-telemetry.github.io/opentelemetry-helm-charts --force-update
run helm repo add fluent https://fluent.github.io/helm-charts --force-update
run helm repo update

# Namespace and the edge token Secret (random, made here once; never in the repo).
if [[ $DRY_RUN == 1 ]]; then
  echo "+ kubectl create namespace $NAMESPACE  # if missing"
  echo "+ kubectl -n $NAMESPACE create secret generic $TOKEN_SECRET --from-literal=token=<random>  # if missing"
else
  kubectl get namespace "$NAMESPACE" >/dev/null 2>&1 || kubectl create namespace "$NAMESPACE"
  if ! kubectl -n "$NAMESPACE" get secret "$TOKEN_SECRET" >/dev/null 2>&1; then
    token="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
    kubectl -n "$NAMESPACE" create secret generic "$TOKEN_SECRET" --from-literal=token="$token" >/dev/null
    echo "created Secret $NAMESPACE/$TOKEN_SECRET (the edge's OTLP bearer token)"
  fi
fi

collector_args=()
if [[ -n "${COLLECTOR_IRSA_ROLE_ARN:-}" ]]; then
  collector_args+=(--set-string "serviceAccount.annotations.eks\.amazonaws\.com/role-arn=$COLLECTOR_IRSA_ROLE_ARN")
fi
prometheus_args=()
if [[ -n "${AMP_REMOTE_WRITE_URL:-}" ]]; then
  [[ -n "${AWS_REGION:-}" ]] || { echo "install.sh: AWS_REGION is required with AMP_REMOTE_WRITE_URL" >&2; exit 1; }
  prometheus_args+=(
    --set-string "prometheus.prometheusSpec.remoteWrite[0].url=$AMP_REMOTE_WRITE_URL"
    --set-string "prometheus.prometheusSpec.remoteWrite[0].sigv4.region=$AWS_REGION"
  )
  # Prometheus signs with the collector's IRSA role, whose trust policy must then also name
  # Prometheus's ServiceAccount, observability:kube-prometheus-stack-prometheus.
  if [[ -n "${COLLECTOR_IRSA_ROLE_ARN:-}" ]]; then
    prometheus_args+=(--set-string "prometheus.serviceAccount.annotations.eks\.amazonaws\.com/role-arn=$COLLECTOR_IRSA_ROLE_ARN")
  fi
fi

release opensearch opensearch/opensearch "$OPENSEARCH_CHART_VERSION" opensearch.yaml
release kube-prometheus-stack prometheus-community/kube-prometheus-stack "$KUBE_PROMETHEUS_STACK_CHART_VERSION" \
  kube-prometheus-stack.yaml ${prometheus_args[@]+"${prometheus_args[@]}"}
release jaeger jaegertracing/jaeger "$JAEGER_CHART_VERSION" jaeger.yaml
release otel-collector-gateway open-telemetry/opentelemetry-collector "$OTEL_COLLECTOR_CHART_VERSION" \
  otel-collector-gateway.yaml --values "$HERE/otel-collector-gateway-k8s-attributes.yaml" ${collector_args[@]+"${collector_args[@]}"}
release otel-collector-agent open-telemetry/opentelemetry-collector "$OTEL_COLLECTOR_CHART_VERSION" \
  otel-collector-agent.yaml ${collector_args[@]+"${collector_args[@]}"}
release fluent-bit fluent/fluent-bit "$FLUENT_BIT_CHART_VERSION" fluent-bit.yaml

echo "platform ready in namespace $NAMESPACE$([[ $DRY_RUN == 1 ]] && echo ' (dry run: nothing was run)')"
