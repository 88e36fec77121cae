"""The GCP backend: Firestore, Cloud KMS, Secret Manager and Cloud Storage through the official
google-cloud client libraries. Loaded only when the backend setting is `gcp://...`.
"""

import warnings

# google-api-core warns on import, once per library, that it will drop Python 3.11 in 2027:
# a note for maintainers (pyproject pins the libraries), not something a CLI user can act on.
warnings.filterwarnings("ignore", message="You are using a Python version", category=FutureWarning)

from .driver import GcpDriver, open_driver  # noqa: E402  (after the filter)

__all__ = ["GcpDriver", "open_driver"]
