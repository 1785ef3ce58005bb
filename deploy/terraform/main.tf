# Network and cluster: a VPC over 2-3 availability zones, an EKS control plane whose nodes live in
# the private subnets only, and the add-ons the platform needs (VPC CNI, CoreDNS, kube-proxy, the
# EBS CSI driver for Prometheus' and OpenSearch's volumes).

data "aws_availability_zones" "available" {
  #checkov:skip=CKV_AWS_394:Only the first availability_zone_count zones in name order are used (slice below); a zone AWS adds later sorts last and is not picked
  state = "available"

  # Local Zones and Wavelength Zones cannot host EKS subnets.
  filter {
    name   = "opt-in-status"
    values = ["opt-in-not-required"]
  }
}

locals {
  tags = merge(var.tags, {
    Project   = "meridian"
    ManagedBy = "terraform"
  })

  azs = slice(data.aws_availability_zones.available.names, 0, var.availability_zone_count)

  # The first three quarters of the VPC are the private subnets (pods take VPC addresses with the
  # VPC CNI, so they get the room); the last quarter holds the small public subnets for the NAT
  # gateways and the internet-facing load balancers.
  private_subnets = [for i in range(var.availability_zone_count) : cidrsubnet(var.vpc_cidr, 2, i)]
  public_subnets  = [for i in range(var.availability_zone_count) : cidrsubnet(cidrsubnet(var.vpc_cidr, 2, 3), 4, i)]
}

module "vpc" {
  #checkov:skip=CKV_TF_1:Registry module pinned to an exact release version (tests/deploy enforce it); a git commit source would bypass the registry versioning
  source  = "terraform-aws-modules/vpc/aws"
  version = "6.6.1"

  name = var.cluster_name
  cidr = var.vpc_cidr
  azs  = local.azs

  private_subnets = local.private_subnets
  public_subnets  = local.public_subnets

  enable_nat_gateway     = true
  single_nat_gateway     = var.single_nat_gateway
  one_nat_gateway_per_az = !var.single_nat_gateway

  enable_dns_hostnames = true
  enable_dns_support   = true

  # The AWS Load Balancer Controller picks subnets by these tags.
  public_subnet_tags = {
    "kubernetes.io/role/elb" = "1"
  }
  private_subnet_tags = {
    "kubernetes.io/role/internal-elb" = "1"
  }
}

module "eks" {
  #checkov:skip=CKV_TF_1:Registry module pinned to an exact release version (tests/deploy enforce it); a git commit source would bypass the registry versioning
  source  = "terraform-aws-modules/eks/aws"
  version = "21.24.0"

  name               = var.cluster_name
  kubernetes_version = var.kubernetes_version

  vpc_id     = module.vpc.vpc_id
  subnet_ids = module.vpc.private_subnets

  # kubectl and helm from the operator's machine reach the API over the internet, limited to
  # api_allowed_cidrs; the nodes use the private endpoint.
  endpoint_public_access       = true
  endpoint_public_access_cidrs = var.api_allowed_cidrs
  endpoint_private_access      = true

  # Access entries (EKS API), not the aws-auth ConfigMap; whoever applies becomes cluster admin.
  authentication_mode                      = "API"
  enable_cluster_creator_admin_permissions = true

  # IRSA: the IAM OIDC provider that the roles in irsa.tf trust.
  enable_irsa = true

  addons = {
    vpc-cni = {
      before_compute = true
    }
    kube-proxy = {}
    coredns    = {}
    aws-ebs-csi-driver = {
      service_account_role_arn = module.ebs_csi_irsa.arn
    }
  }

  eks_managed_node_groups = {
    default = {
      ami_type       = "AL2023_x86_64_STANDARD"
      instance_types = var.node_instance_types
      capacity_type  = var.node_capacity_type
      subnet_ids     = module.vpc.private_subnets

      min_size     = var.node_group_size.min
      desired_size = var.node_group_size.desired
      max_size     = var.node_group_size.max

      block_device_mappings = {
        xvda = {
          device_name = "/dev/xvda"
          ebs = {
            volume_size           = var.node_disk_size_gib
            volume_type           = "gp3"
            encrypted             = true
            delete_on_termination = true
          }
        }
      }

      # IMDSv2 only, and not reachable from pods (hop limit 1): workloads get AWS access via IRSA.
      metadata_options = {
        http_endpoint               = "enabled"
        http_tokens                 = "required"
        http_put_response_hop_limit = 1
      }
    }
  }
}
