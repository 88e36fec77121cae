"""The AWS backend: DynamoDB, KMS, SSM Parameter Store and S3 through boto3.

Selected by `aws://?region=...&prefix=...[&endpoint=...]`; imported only then, so the embedded
default never loads boto3. See docs/backends/aws.md.
"""

from .driver import AwsDriver, open_driver

__all__ = ["AwsDriver", "open_driver"]
