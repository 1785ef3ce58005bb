# Version policy (tests/deploy/terraform.test.ts enforces it):
# - Terraform itself: any 1.x from 1.5.7, the oldest release the pinned community modules support.
# - Modules: exact versions. A module upgrade changes resources, so it is a reviewed commit.
# - Providers: "~> X.Y.Z", patch releases only. Patches are bug fixes; the lock file that
#   `terraform init` writes (.terraform.lock.hcl) records the exact build that was used.
terraform {
  required_version = ">= 1.5.7, < 2.0.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.39.0"
    }
    helm = {
      source  = "hashicorp/helm"
      version = "~> 3.1.0"
    }
    kubernetes = {
      source  = "hashicorp/kubernetes"
      version = "~> 3.0.1"
    }
    random = {
      source  = "hashicorp/random"
      version = "~> 3.7.2"
    }
  }
}
