# IAM roles for service accounts (IRSA): each role can be assumed only by the named Kubernetes
# ServiceAccounts through the cluster's OIDC provider.

locals {
  # ServiceAccount names of the releases in platform.tf; the roles below trust exactly these.
  lbc_service_account               = "aws-load-balancer-controller"
  collector_agent_service_account   = "otel-collector-agent"
  collector_gateway_service_account = "otel-collector-gateway"
  # kube-prometheus-stack's Prometheus (fullnameOverride kube-prometheus-stack): it remote-writes to AMP.
  prometheus_service_account = "kube-prometheus-stack-prometheus"
}

module "lbc_irsa" {
  #checkov:skip=CKV_TF_1:Registry module pinned to an exact release version (tests/deploy enforce it); a git commit source would bypass the registry versioning
  source  = "terraform-aws-modules/iam/aws//modules/iam-role-for-service-accounts"
  version = "6.4.0"

  name            = "${var.cluster_name}-aws-load-balancer-controller"
  use_name_prefix = false

  attach_load_balancer_controller_policy = true

  oidc_providers = {
    this = {
      provider_arn               = module.eks.oidc_provider_arn
      namespace_service_accounts = ["kube-system:${local.lbc_service_account}"]
    }
  }
}

module "ebs_csi_irsa" {
  #checkov:skip=CKV_TF_1:Registry module pinned to an exact release version (tests/deploy enforce it); a git commit source would bypass the registry versioning
  source  = "terraform-aws-modules/iam/aws//modules/iam-role-for-service-accounts"
  version = "6.4.0"

  name            = "${var.cluster_name}-ebs-csi-driver"
  use_name_prefix = false

  attach_ebs_csi_policy = true

  oidc_providers = {
    this = {
      provider_arn               = module.eks.oidc_provider_arn
      namespace_service_accounts = ["kube-system:ebs-csi-controller-sa"]
    }
  }
}

# The telemetry pipeline: the OpenTelemetry collector (agent DaemonSet and gateway Deployment) and
# Prometheus. Without AMP it needs no AWS permission; the role exists so that enabling AMP, or an
# exporter to another AWS service, is a policy change rather than a redeploy of the charts.
module "collector_irsa" {
  #checkov:skip=CKV_TF_1:Registry module pinned to an exact release version (tests/deploy enforce it); a git commit source would bypass the registry versioning
  source  = "terraform-aws-modules/iam/aws//modules/iam-role-for-service-accounts"
  version = "6.4.0"

  name            = "${var.cluster_name}-otel-collector"
  use_name_prefix = false

  attach_amazon_managed_service_prometheus_policy  = var.enable_amp
  amazon_managed_service_prometheus_workspace_arns = aws_prometheus_workspace.this[*].arn

  oidc_providers = {
    this = {
      provider_arn = module.eks.oidc_provider_arn
      namespace_service_accounts = [
        "${var.platform_namespace}:${local.collector_agent_service_account}",
        "${var.platform_namespace}:${local.collector_gateway_service_account}",
        "${var.platform_namespace}:${local.prometheus_service_account}",
      ]
    }
  }
}
