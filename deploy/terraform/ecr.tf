# One ECR repository per image that the release workflow pushes (.github/workflows/release.yml):
# immutable tags (a release tag always names the same image), a vulnerability scan on every push,
# encryption with a customer-managed KMS key, and a lifecycle policy so old images do not pile up.

locals {
  images = toset(["service-a", "service-b", "preprocessing-edge", "inference"])
}

data "aws_caller_identity" "current" {}

data "aws_iam_policy_document" "ecr_kms" {
  # The default key policy: the account's own IAM policies decide who may use the key. In a key
  # policy "*" is the key itself, not every resource.
  #checkov:skip=CKV_AWS_109:Key policy; Resource "*" means this key only, and access is delegated to the account's IAM policies
  #checkov:skip=CKV_AWS_111:Key policy; Resource "*" means this key only, and access is delegated to the account's IAM policies
  #checkov:skip=CKV_AWS_356:Key policy; Resource "*" means this key only, and access is delegated to the account's IAM policies
  statement {
    sid       = "AccountAdministersKey"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:aws:iam::${data.aws_caller_identity.current.account_id}:root"]
    }
  }
}

resource "aws_kms_key" "ecr" {
  description             = "${var.cluster_name}: encryption of the ECR repositories"
  enable_key_rotation     = true
  deletion_window_in_days = 7
  policy                  = data.aws_iam_policy_document.ecr_kms.json
}

resource "aws_kms_alias" "ecr" {
  name          = "alias/${var.cluster_name}-ecr"
  target_key_id = aws_kms_key.ecr.key_id
}

resource "aws_ecr_repository" "image" {
  for_each = local.images

  name                 = "meridian/${each.key}"
  image_tag_mutability = "IMMUTABLE"
  force_delete         = var.ecr_force_delete

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    encryption_type = "KMS"
    kms_key         = aws_kms_key.ecr.arn
  }
}

resource "aws_ecr_lifecycle_policy" "image" {
  for_each = aws_ecr_repository.image

  repository = each.value.name
  policy = jsonencode({
    rules = [
      {
        rulePriority = 1
        description  = "Expire untagged images (interrupted or superseded pushes) after 7 days"
        selection = {
          tagStatus   = "untagged"
          countType   = "sinceImagePushed"
          countUnit   = "days"
          countNumber = 7
        }
        action = { type = "expire" }
      },
      {
        rulePriority = 2
        description  = "Keep the newest ${var.ecr_keep_images} tagged images"
        selection = {
          tagStatus   = "any"
          countType   = "imageCountMoreThan"
          countNumber = var.ecr_keep_images
        }
        action = { type = "expire" }
      },
    ]
  })
}
