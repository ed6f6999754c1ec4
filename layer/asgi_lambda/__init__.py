"""Run ASGI apps on AWS Lambda: `handler = Adapter(app)`."""

from .adapter import Adapter
from .exceptions import AppImportError, ConfigError, LifespanFailure, UnexpectedMessage, UnknownEventError

__all__ = ["Adapter", "AppImportError", "ConfigError", "LifespanFailure", "UnexpectedMessage", "UnknownEventError"]
__version__ = "0.1.0"
