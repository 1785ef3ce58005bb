# The in-cluster platform, installed with Helm from the upstream charts at pinned versions: the AWS
# Load Balancer Controller (Ingress and Service type LoadBalancer), then the observability stack
# with the values files of ../helm/platform/, the same releases, names, versions and order as
# ../helm/platform/install.sh (tests/deploy/terraform.test.ts keeps the two in step).

locals {
  # Pinned chart versions: the same as ../helm/platform/install.sh's *_CHART_VERSION.
  chart_versions = {
    aws_load_balancer_controller = "1.14.0"
    opentelemetry_collector      = "0.142.0"
    jaeger                       = "4.1.5"
    kube_prometheus_stack        = "88.3.0"
    fluent_bit                   = "0.54.0"
    opensearch                   = "2.23.1"
  }

  irsa_annotation = "serviceAccount.annotations.eks\\.amazonaws\\.com/role-arn"

  # With AMP, Prometheus also remote-writes there, signing with the collector's IRSA role (SigV4).
  prometheus_amp_values = var.enable_amp ? [
    { name = "prometheus.prometheusSpec.remoteWrite[0].url", value = "${aws_prometheus_workspace.this[0].prometheus_endpoint}api/v1/remote_write" },
    { name = "prometheus.prometheusSpec.remoteWrite[0].sigv4.region", value = var.region },
    { name = "prometheus.${local.irsa_annotation}", value = module.collector_irsa.arn },
  ] : []
}

resource "kubernetes_namespace_v1" "platform" {
  metadata {
    name = var.platform_namespace
    labels = {
      # The log and telemetry agents are DaemonSets that read the nodes' log files (hostPath), which
      # the baseline Pod Security level forbids: warn and audit rather than enforce.
      "pod-security.kubernetes.io/warn"  = "baseline"
      "pod-security.kubernetes.io/audit" = "baseline"
    }
  }

  depends_on = [module.eks]
}

# The bearer token that edge senders present to the OTLP Ingress; the collector gateway reads it
# (EDGE_OTLP_TOKEN). Random, kept in the Terraform state (treat the state as secret) and given to
# the edge by the sensitive output edge_otlp_token.
resource "random_password" "edge_otlp_token" {
  length  = 48
  special = false
}

resource "kubernetes_secret_v1" "edge_otlp_token" {
  metadata {
    name      = "meridian-edge-otlp-token"
    namespace = kubernetes_namespace_v1.platform.metadata[0].name
  }

  data = {
    token = random_password.edge_otlp_token.result
  }
}

# EKS ships no default StorageClass for the EBS CSI driver; Prometheus and OpenSearch claim volumes.
resource "kubernetes_storage_class_v1" "gp3" {
  metadata {
    name = "gp3"
    annotations = {
      "storageclass.kubernetes.io/is-default-class" = "true"
    }
  }

  storage_provisioner    = "ebs.csi.aws.com"
  reclaim_policy         = "Delete"
  volume_binding_mode    = "WaitForFirstConsumer"
  allow_volume_expansion = true

  parameters = {
    type      = "gp3"
    encrypted = "true"
  }

  depends_on = [module.eks]
}

resource "helm_release" "aws_load_balancer_controller" {
  name       = "aws-load-balancer-controller"
  namespace  = "kube-system"
  repository = "https://aws.github.io/eks-charts"
  chart      = "aws-load-balancer-controller"
  version    = local.chart_versions.aws_load_balancer_controller
  timeout    = 600

  # region and vpcId are given because the nodes' metadata service is not reachable from pods.
  set = [
    { name = "clusterName", value = module.eks.cluster_name },
    { name = "region", value = var.region },
    { name = "vpcId", value = module.vpc.vpc_id },
    { name = "serviceAccount.create", value = "true" },
    { name = "serviceAccount.name", value = local.lbc_service_account },
    { name = local.irsa_annotation, value = module.lbc_irsa.arn },
  ]

  # The whole module: the node group must be up for the controller's pods to become ready.
  depends_on = [module.eks]
}

resource "helm_release" "kube_prometheus_stack" {
  name       = "kube-prometheus-stack"
  namespace  = kubernetes_namespace_v1.platform.metadata[0].name
  repository = "https://prometheus-community.github.io/helm-charts"
  chart      = "kube-prometheus-stack"
  version    = local.chart_versions.kube_prometheus_stack
  timeout    = 900

  values = [file("${path.module}/../helm/platform/kube-prometheus-stack.yaml")]
  set    = local.prometheus_amp_values

  # The controller's webhook must answer before any Service is created; volumes need the class.
  depends_on = [helm_release.aws_load_balancer_controller, kubernetes_storage_class_v1.gp3]
}

resource "helm_release" "jaeger" {
  name       = "jaeger"
  namespace  = kubernetes_namespace_v1.platform.metadata[0].name
  repository = "https://jaegertracing.github.io/helm-charts"
  chart      = "jaeger"
  version    = local.chart_versions.jaeger
  timeout    = 600

  values = [file("${path.module}/../helm/platform/jaeger.yaml")]

  # OpenSearch is Jaeger's trace storage.
  depends_on = [helm_release.opensearch]
}

resource "helm_release" "opensearch" {
  name       = "opensearch"
  namespace  = kubernetes_namespace_v1.platform.metadata[0].name
  repository = "https://opensearch-project.github.io/helm-charts"
  chart      = "opensearch"
  version    = local.chart_versions.opensearch
  timeout    = 900

  values = [file("${path.module}/../helm/platform/opensearch.yaml")]

  depends_on = [helm_release.aws_load_balancer_controller, kubernetes_storage_class_v1.gp3]
}

# The gateway (a Deployment) receives from the agents and the edge ingress and exports to Jaeger and
# Prometheus; it starts after them, and after the Prometheus Operator's CRDs (ServiceMonitor).
resource "helm_release" "otel_collector_gateway" {
  name       = "otel-collector-gateway"
  namespace  = kubernetes_namespace_v1.platform.metadata[0].name
  repository = "https://open-telemetry.github.io/opentelemetry-helm-charts"
  chart      = "opentelemetry-collector"
  version    = local.chart_versions.opentelemetry_collector
  timeout    = 600

  values = [
    file("${path.module}/../helm/platform/otel-collector-gateway.yaml"),
    file("${path.module}/../helm/platform/otel-collector-gateway-k8s-attributes.yaml"),
  ]

  set = [
    { name = "serviceAccount.create", value = "true" },
    { name = "serviceAccount.name", value = local.collector_gateway_service_account },
    { name = local.irsa_annotation, value = module.collector_irsa.arn },
  ]

  depends_on = [helm_release.jaeger, helm_release.kube_prometheus_stack, kubernetes_secret_v1.edge_otlp_token]
}

# The agent (a DaemonSet, one per node) forwards the pods' telemetry to the gateway.
resource "helm_release" "otel_collector_agent" {
  name       = "otel-collector-agent"
  namespace  = kubernetes_namespace_v1.platform.metadata[0].name
  repository = "https://open-telemetry.github.io/opentelemetry-helm-charts"
  chart      = "opentelemetry-collector"
  version    = local.chart_versions.opentelemetry_collector
  timeout    = 600

  values = [file("${path.module}/../helm/platform/otel-collector-agent.yaml")]

  set = [
    { name = "serviceAccount.create", value = "true" },
    { name = "serviceAccount.name", value = local.collector_agent_service_account },
    { name = local.irsa_annotation, value = module.collector_irsa.arn },
  ]

  depends_on = [helm_release.otel_collector_gateway]
}

resource "helm_release" "fluent_bit" {
  name       = "fluent-bit"
  namespace  = kubernetes_namespace_v1.platform.metadata[0].name
  repository = "https://fluent.github.io/helm-charts"
  chart      = "fluent-bit"
  version    = local.chart_versions.fluent_bit
  timeout    = 600

  values = [file("${path.module}/../helm/platform/fluent-bit.yaml")]

  depends_on = [helm_release.opensearch, helm_release.kube_prometheus_stack]
}
