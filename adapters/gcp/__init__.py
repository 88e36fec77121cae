"""The GCP backend: Firestore, Cloud KMS, Secret Manager and Cloud Storage through the official
google-cloud client libraries. The driver (`adapters.gcp.driver`) is loaded only when the backend
setting is `gcp://...`; the desired-state spec (`adapters.gcp.spec`) imports no SDK.
"""

import warnings

# google-api-core warns on import, once per library, that it will drop Python 3.11 in 2027:
# a note for maintainers (pyproject pins the libraries), not something a CLI user can act on.
warnings.filterwarnings("ignore", message="You are using a Python version", category=FutureWarning)
