"""Exceptions raised to users. Their class names show as `errorType` in Lambda's logs.

Every one is an `AsgiLambdaError`, and also the built-in exception it has always been (a
ConfigError is a ValueError), so code that catches either keeps working. The errors that fail an
init (ConfigError, AppImportError, LifespanFailure) end their message with the address of their fix
on the documentation site's troubleshooting page (`fix=`, the anchor of its section).
"""

from .docs import with_fix


class AsgiLambdaError(Exception):
    """The base of every exception asgi_lambda raises on purpose."""


class ConfigError(AsgiLambdaError, ValueError):
    """An argument or environment variable has a value asgi_lambda cannot use."""

    def __init__(self, message: str, *, fix: str = "invalid-value") -> None:
        super().__init__(with_fix(message, fix))


class UnknownEventError(AsgiLambdaError, ValueError):
    """The Lambda event does not have the shape of any event source asgi_lambda handles."""


class MalformedEvent(UnknownEventError):
    """An event of a known source breaks that source's documented format: the message names the
    source, the field (`cookies[2]`, `multiValueHeaders['accept'][0]`), what was expected and what
    came. The event is refused; the next one is served as usual."""


class LifespanFailure(AsgiLambdaError, RuntimeError):
    """The app's lifespan startup or shutdown failed."""

    def __init__(self, message: str, *, fix: str = "lifespan-startup-failed") -> None:
        super().__init__(with_fix(message, fix))


class UnexpectedMessage(AsgiLambdaError, RuntimeError):
    """The app sent an ASGI message that is not valid in the current protocol state."""


class InvalidMessage(UnexpectedMessage):
    """The app sent an ASGI message with a field the protocol does not allow: a header name as
    str, status 999, a header value with a line break. The message names the field, what came
    and what was expected. An UnexpectedMessage, so code that catches that catches this too."""


class AppImportError(AsgiLambdaError, ImportError):
    """The app named by ASGI_APP cannot be imported. An ImportError, so Lambda's runtime
    reports it as Runtime.ImportModuleError."""

    def __init__(self, message: str, *, fix: str = "app-import") -> None:
        super().__init__(with_fix(message, fix))


class EventNotHandled(AsgiLambdaError, RuntimeError):
    """The app answered a non-HTTP event (SQS, SNS, ...) with a status outside 2xx; the
    invocation fails, so that the platform retries the event as its configuration says."""


class StoreUnavailable(AsgiLambdaError, RuntimeError):
    """The WebSocket connection store could not be reached or answered with an error; the message
    names both. `send` and `broadcast` raise it, as does a WebSocket event during an outage."""


class MessageTooLarge(AsgiLambdaError, ValueError):
    """A WebSocket message is over API Gateway's 128 KB frame limit; it was not sent."""


class QueueUnavailable(AsgiLambdaError, RuntimeError):
    """A broadcast's fan-out queue (WS_FANOUT_QUEUE_URL) could not be reached, or refused its pages;
    the message names the queue and how many connections were queued before."""
