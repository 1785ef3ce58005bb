# Optional Amazon Managed Service for Prometheus workspace (enable_amp). The collector's IRSA role
# (irsa.tf) gets remote-write permission on it; amp_remote_write_url is the endpoint to give the
# collector gateway's prometheusremotewrite exporter (with the sigv4auth extension).
resource "aws_prometheus_workspace" "this" {
  count = var.enable_amp ? 1 : 0

  alias = var.cluster_name
}
