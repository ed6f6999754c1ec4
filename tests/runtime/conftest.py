"""The layer zip built once per module, for every module here that runs it (test_layer.py defines it)."""

from .test_layer import layer_zip  # noqa: F401
