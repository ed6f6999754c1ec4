"""CloudFront Lambda@Edge: viewer-request and origin-request events, answered with a generated
response.

https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/lambda-event-structure.html
https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/lambda-generating-http-responses-in-requests.html
https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/edge-functions-restrictions.html

CloudFront sends `uri` and `querystring` as the client encoded them, headers as
`{lowercase name: [{key, value}, ...]}` (a repeated header is several entries), and the body
only when the trigger includes it: always base64, cut at 40 KB (viewer) or 1 MB (origin) with
`inputTruncated` set, which the scope passes on as `aws.input_truncated`. The answer follows
AWS's documentation: `status` a string, `statusDescription`, one `{key, value}` per header value
(every Set-Cookie kept), `bodyEncoding` text or base64. Headers CloudFront refuses in a
generated response (hop-by-hop, read-only, its own) are left out, since any one of them turns
the answer into a 502.

The samples `sam local generate-event cloudfront` writes leave out `config.eventType`, and some
`querystring` or `clientIp`: such a record is a request unless it carries a response, with an
empty query string and no client when those are missing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from .common import (
    decode_body,
    http_scope,
    percent_decode,
    reason_phrase,
    response_body,
    root_path_for,
)
from .fields import FLAG, TEXT, Fields, ListOf, MapOf, Nullable

if TYPE_CHECKING:
    from ..settings import Settings
    from ..types import Headers, LambdaEvent, LambdaResponse, Response

REQUEST_EVENT_TYPES = ("viewer-request", "origin-request")
# A generated response, headers and body, may be at most this big (larger ones become a 502).
RESPONSE_LIMITS = {"viewer-request": 40 * 1024, "origin-request": 1024 * 1024}
# Headers a generated response must not carry ("disallowed" and "read-only" in the restrictions).
REFUSED_HEADERS = frozenset(
    {
        "connection",
        "content-length",
        "expect",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "via",
        "x-accel-buffering",
        "x-accel-charset",
        "x-accel-limit-rate",
        "x-accel-redirect",
        "x-amzn-auth",
        "x-amzn-cf-billing",
        "x-amzn-cf-id",
        "x-amzn-cf-xff",
        "x-amzn-errortype",
        "x-amzn-fle-profile",
        "x-amzn-header-count",
        "x-amzn-header-order",
        "x-amzn-lambda-integration-tag",
        "x-amzn-requestid",
        "x-cache",
        "x-forwarded-proto",
        "x-real-ip",
    }
)
REFUSED_PREFIXES = ("x-amz-cf-", "x-edge-")


class LambdaEdgeEvent:
    kind: Final = "http"
    streams = False  # Lambda streams only Function URL and REST API answers
    name = "CloudFront Lambda@Edge (viewer-request, origin-request)"
    fields = Fields(
        {
            "Records": ListOf(
                Fields(
                    {
                        "cf": Fields(
                            {
                                "config": Fields({"eventType": Nullable(TEXT)}),
                                "request": Fields(
                                    {
                                        "clientIp": Nullable(TEXT),
                                        "method": TEXT,
                                        "uri": TEXT,
                                        "querystring": Nullable(TEXT),
                                        "headers": Nullable(
                                            MapOf(ListOf(Fields({"key": Nullable(TEXT), "value": TEXT}, required=("value",))))
                                        ),
                                        "body": Nullable(
                                            Fields({"inputTruncated": Nullable(FLAG), "encoding": Nullable(TEXT), "data": Nullable(TEXT)})
                                        ),
                                    },
                                    required=("method", "uri"),
                                ),
                            },
                            required=("config", "request"),
                        )
                    },
                    required=("cf",),
                )
            )
        },
        required=("Records",),
    )

    @classmethod
    def matches(cls, event: LambdaEvent) -> bool:
        records = event.get("Records")
        if not isinstance(records, list) or len(records) != 1 or not isinstance(records[0], dict):
            return False
        cf = records[0].get("cf")
        if not isinstance(cf, dict) or not isinstance(cf.get("request"), dict) or not isinstance(cf.get("config"), dict):
            return False
        event_type = cf["config"].get("eventType")
        # `sam local generate-event cloudfront` samples name no event type: a request, unless a
        # response comes with it (a viewer- or origin-response event carries both).
        return event_type in REQUEST_EVENT_TYPES or (event_type is None and "response" not in cf)

    def __init__(self, event: LambdaEvent, context: Any, settings: Settings) -> None:
        cf = event["Records"][0]["cf"]
        request = cf["request"]
        headers: Headers = []
        cookies: list[str] = []
        for name, entries in (request.get("headers") or {}).items():
            for entry in entries or ():
                if name.lower() == "cookie":
                    cookies.append(entry["value"])
                else:
                    headers.append((name.lower().encode(), entry["value"].encode()))
        if cookies:
            # HTTP/1.1 allows one Cookie header; CloudFront passes each one the viewer sent.
            headers.append((b"cookie", "; ".join(cookies).encode()))
        lookup = {name.decode("latin-1"): value.decode("latin-1") for name, value in reversed(headers)}
        if "cloudfront-forwarded-proto" in lookup:
            lookup["x-forwarded-proto"] = lookup["cloudfront-forwarded-proto"]
        body = request.get("body") or {}
        raw_path = request["uri"] or "/"
        path = percent_decode(raw_path)
        self.settings = settings
        # With no event type (a sam sample), the stricter limit: an answer that passes it passes both.
        self.max_response_bytes = RESPONSE_LIMITS[cf["config"].get("eventType") or "viewer-request"]
        self.method: str = request["method"].upper()
        self.body = decode_body(body.get("data"), is_base64=body.get("encoding", "base64") == "base64")
        self.scope = http_scope(
            event=event,
            context=context,
            method=self.method,
            path=path,
            raw_path=raw_path,
            root_path=root_path_for(path, stage=None, base_path=settings.base_path),
            query_string=(request.get("querystring") or "").encode(),
            headers=headers,
            lookup=lookup,
            client_ip=request.get("clientIp"),
            protocol=None,
            domain_name=None,
        )
        self.scope["aws.input_truncated"] = bool(body.get("inputTruncated"))

    def to_response(self, response: Response) -> LambdaResponse:
        status = response["status"]
        headers: dict[str, list[dict[str, str]]] = {}
        for raw_name, raw_value in response["headers"]:
            name = raw_name.decode("latin-1").lower()
            if name in REFUSED_HEADERS or name.startswith(REFUSED_PREFIXES) or name in self.settings.exclude_headers:
                continue
            headers.setdefault(name, []).append({"key": header_key(name), "value": raw_value.decode("latin-1")})
        body, is_base64 = response_body(response, method=self.method, settings=self.settings)
        return {
            "status": str(status),
            "statusDescription": reason_phrase(status),
            "headers": headers,
            "bodyEncoding": "base64" if is_base64 else "text",
            "body": body,
        }


def header_key(name: str) -> str:
    """The name as CloudFront writes one it was given without `key`: "content-type" is "Content-Type"."""
    return "-".join(part[:1].upper() + part[1:] for part in name.split("-"))
