"""Exceptions raised to users. Their class names show as `errorType` in Lambda's logs."""


class ConfigError(ValueError):
    """An argument or environment variable has a value asgi_lambda cannot use."""


class UnknownEventError(ValueError):
    """The Lambda event does not have the shape of any event source asgi_lambda handles."""


class LifespanFailure(RuntimeError):
    """The app's lifespan startup or shutdown failed."""


class UnexpectedMessage(RuntimeError):
    """The app sent an ASGI message that is not valid in the current protocol state."""


class AppImportError(ImportError):
    """The app named by ASGI_APP cannot be imported. An ImportError, so Lambda's runtime
    reports it as Runtime.ImportModuleError."""


class EventNotHandled(RuntimeError):
    """The app answered a non-HTTP event (SQS, SNS, ...) with a status outside 2xx; the
    invocation fails, so that the platform retries the event as its configuration says."""
