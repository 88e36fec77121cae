"""Entry points of the service on managed runtimes (no cloud names in the code; the backend
setting picks the storage exactly as the CLI does):

* `service.runtime.lambda_http.handler`: the calibration API behind API Gateway HTTP API
  (payload format 2.0) on AWS Lambda, through Mangum.
* `service.runtime.jobs.anonymize_handler`: the scheduled anonymizer on AWS Lambda
  (EventBridge Scheduler); `python -m service.runtime.jobs`: the same job as a Cloud Run job.

See docs/runtime.md.
"""
