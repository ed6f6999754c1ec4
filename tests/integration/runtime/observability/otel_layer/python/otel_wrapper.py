"""Stand-in for ADOT's /opt/python/otel_wrapper.py, for tests only (see ../otel-instrument).

The layer's wrapper sets _HANDLER to `otel_wrapper.lambda_handler`, and this module hands the runtime
the handler ORIG_HANDLER names, as it finds it in its module: by then the aws-lambda instrumentation
(loaded by opentelemetry-instrument's sitecustomize) has replaced it there with its traced wrapper.
"""

import os
from importlib import import_module

module_name, _, attribute = os.environ["ORIG_HANDLER"].replace("/", ".").rpartition(".")
lambda_handler = getattr(import_module(module_name), attribute)
