output "cluster_name" {
  description = "Name of the EKS cluster."
  value       = module.eks.cluster_name
}

output "region" {
  description = "AWS region of the cluster and the ECR repositories."
  value       = var.region
}

output "kubeconfig_command" {
  description = "Command that adds the cluster to your kubeconfig."
  value       = "aws eks update-kubeconfig --region ${var.region} --name ${module.eks.cluster_name}"
}

output "ecr_repository_urls" {
  description = "ECR repository URL of each image, by image name (service-a, service-b, preprocessing-edge, inference)."
  value       = { for name, repo in aws_ecr_repository.image : name => repo.repository_url }
}

output "collector_irsa_role_arn" {
  description = "IAM role the OpenTelemetry collector's ServiceAccounts assume (IRSA)."
  value       = module.collector_irsa.arn
}

output "load_balancer_controller_irsa_role_arn" {
  description = "IAM role of the AWS Load Balancer Controller's ServiceAccount (IRSA)."
  value       = module.lbc_irsa.arn
}

output "amp_remote_write_url" {
  description = "Remote-write endpoint of the Amazon Managed Service for Prometheus workspace; null when enable_amp is false."
  value       = var.enable_amp ? "${aws_prometheus_workspace.this[0].prometheus_endpoint}api/v1/remote_write" : null
}

output "edge_otlp_token" {
  description = "Bearer token the edge (preprocessing-edge's collector) presents to the cluster's OTLP Ingress."
  value       = random_password.edge_otlp_token.result
  sensitive   = true
}
