"""Root pytest configuration: shared fixtures live in `tests/support/` and load as plugins."""

pytest_plugins = [
    "tests.support.emulators",
    "tests.support.backends",
    "tests.support.gcp_backend",
    "tests.support.aws_backend",
]
