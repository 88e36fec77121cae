"""Root pytest configuration: shared fixtures live in `tests/support/` and load as plugins."""

pytest_plugins = [
    "tests.support.emulators",
    "tests.support.backends",
    "tests.support.gcp_backend",
    "tests.support.aws_backend",
]

# CI runs are reproducible: hypothesis derives its examples from each test instead of a random
# seed (developers' runs stay random and keep exploring).
import os  # noqa: E402

from hypothesis import settings  # noqa: E402

settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
