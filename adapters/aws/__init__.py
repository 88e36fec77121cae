"""The AWS backend: DynamoDB, KMS, SSM Parameter Store and S3 through boto3.

Selected by `aws://?region=...&prefix=...[&endpoint=...]`. The driver (`adapters.aws.driver`)
is imported only then, so the embedded default never loads boto3; the desired-state spec
(`adapters.aws.spec`) imports no SDK, so the Pulumi program reads it too. See docs/backends/aws.md.
"""
