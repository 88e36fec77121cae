"""Tests of the deployable artifacts: the Lambda zip, the container image, the lock."""
