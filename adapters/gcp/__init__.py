"""The GCP backend: Firestore, Cloud KMS, Secret Manager and Cloud Storage through the official
google-cloud client libraries. Loaded only when the backend setting is `gcp://...`.
"""

from .driver import GcpDriver, open_driver

__all__ = ["GcpDriver", "open_driver"]
