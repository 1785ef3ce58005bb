variable "region" {
  description = "AWS region for every resource (e.g. us-east-1, eu-west-1)."
  type        = string
  default     = "us-east-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]+$", var.region))
    error_message = "region must be an AWS region code such as us-east-1 or eu-central-1."
  }
}

variable "cluster_name" {
  description = "EKS cluster name; also the prefix of the VPC, IAM role and AMP workspace names."
  type        = string
  default     = "meridian"

  # IAM role names are "<cluster_name>-<purpose>" and must stay under 64 characters.
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.cluster_name))
    error_message = "cluster_name must be 3-32 characters: lower-case letters, digits and hyphens, starting with a letter and not ending with a hyphen."
  }
}

variable "kubernetes_version" {
  description = "Kubernetes minor version of the EKS control plane and node group (e.g. 1.34); the local cluster of scripts/tools/cluster.sh runs the same minor (KUBERNETES_VERSION of scripts/tools/versions.env)."
  type        = string
  default     = "1.34"

  validation {
    condition     = can(regex("^1\\.[0-9]{2}$", var.kubernetes_version))
    error_message = "kubernetes_version must be a Kubernetes minor version such as 1.34."
  }
}

variable "api_allowed_cidrs" {
  description = "CIDR blocks allowed to reach the public EKS API endpoint, e.g. [\"203.0.113.7/32\"] for your own address. Every request still needs IAM credentials."
  type        = list(string)

  validation {
    condition     = length(var.api_allowed_cidrs) > 0 && alltrue([for c in var.api_allowed_cidrs : can(cidrhost(c, 0))])
    error_message = "api_allowed_cidrs must be a non-empty list of valid CIDR blocks such as 203.0.113.7/32."
  }
}

variable "vpc_cidr" {
  description = "IPv4 CIDR block of the VPC, /16 to /20; public and private subnets are carved out of it per availability zone."
  type        = string
  default     = "10.42.0.0/16"

  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0)) && can(regex("/(1[6-9]|20)$", var.vpc_cidr))
    error_message = "vpc_cidr must be a valid IPv4 CIDR block with a prefix length from /16 to /20, e.g. 10.42.0.0/16."
  }
}

variable "availability_zone_count" {
  description = "How many availability zones the VPC spans (EKS needs at least 2)."
  type        = number
  default     = 2

  validation {
    condition     = var.availability_zone_count >= 2 && var.availability_zone_count <= 3
    error_message = "availability_zone_count must be 2 or 3."
  }
}

variable "single_nat_gateway" {
  description = "One NAT gateway for the whole VPC (cheaper, one zone's outage cuts egress) instead of one per availability zone."
  type        = bool
  default     = true
}

variable "node_instance_types" {
  description = "EC2 instance types of the managed node group, in order of preference."
  type        = list(string)
  default     = ["t3.xlarge"]

  validation {
    condition     = length(var.node_instance_types) > 0 && alltrue([for t in var.node_instance_types : can(regex("^[a-z][a-z0-9-]*\\.[a-z0-9]+$", t))])
    error_message = "node_instance_types must list at least one EC2 instance type such as t3.xlarge."
  }
}

variable "node_capacity_type" {
  description = "ON_DEMAND or SPOT capacity for the managed node group."
  type        = string
  default     = "ON_DEMAND"

  validation {
    condition     = contains(["ON_DEMAND", "SPOT"], var.node_capacity_type)
    error_message = "node_capacity_type must be ON_DEMAND or SPOT."
  }
}

variable "node_group_size" {
  description = "Node count of the managed node group: min <= desired <= max."
  type = object({
    min     = number
    desired = number
    max     = number
  })
  default = {
    min     = 2
    desired = 3
    max     = 4
  }

  validation {
    condition = (
      var.node_group_size.min >= 1 &&
      var.node_group_size.min <= var.node_group_size.desired &&
      var.node_group_size.desired <= var.node_group_size.max &&
      var.node_group_size.max <= 20
    )
    error_message = "node_group_size needs 1 <= min <= desired <= max <= 20."
  }
}

variable "node_disk_size_gib" {
  description = "Root volume size of each node, in GiB (gp3, encrypted)."
  type        = number
  default     = 50

  validation {
    condition     = var.node_disk_size_gib >= 20 && var.node_disk_size_gib <= 500
    error_message = "node_disk_size_gib must be between 20 and 500."
  }
}

variable "ecr_keep_images" {
  description = "How many tagged images each ECR repository keeps; older ones expire."
  type        = number
  default     = 30

  validation {
    condition     = var.ecr_keep_images >= 1 && var.ecr_keep_images <= 1000
    error_message = "ecr_keep_images must be between 1 and 1000."
  }
}

variable "ecr_force_delete" {
  description = "Let `terraform destroy` delete ECR repositories that still hold images (a demo is meant to be torn down)."
  type        = bool
  default     = true
}

variable "platform_namespace" {
  description = "Kubernetes namespace of the observability platform (collector, Jaeger, Prometheus, Fluent Bit, OpenSearch)."
  type        = string
  default     = "observability"

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", var.platform_namespace))
    error_message = "platform_namespace must be a valid Kubernetes namespace name (RFC 1123 label)."
  }
}

variable "enable_amp" {
  description = "Create an Amazon Managed Service for Prometheus workspace and let the collector's IRSA role remote-write to it."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Extra tags for every AWS resource (merged over Project=meridian and ManagedBy=terraform)."
  type        = map(string)
  default     = {}
}
