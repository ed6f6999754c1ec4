"""S3 store (WS_S3_BUCKET, WS_S3_PREFIX): for accounts that would rather not run a table.

One object per connection, at prefix + connection_id (API Gateway's ids end in "=", which S3
keys allow): the body is the record's JSON (application/json), and the object's metadata
`expires-at` holds the record's expiry in epoch seconds. S3 cannot expire an object at a time of
its own, so the bucket's cleanup is a lifecycle rule expiring the prefix after 1 day (see README),
and every read drops expired records itself. The bucket is not created here.

save is one PutObject and load one GetObject (S3 reads are strongly consistent). pop is GetObject
then DeleteObject: S3 has no atomic get-and-delete, so two pops of one connection at the same
moment may both return the record. $disconnect comes once per connection, so this does not arise
in practice. scan lists the prefix page by page (ListObjectsV2), then fetches every object, up to
CONCURRENCY at a time on the store's own thread pool: asyncio's default executor has only
cpu_count + 4 threads (6 on Lambda), and the app may need those. A broadcast over many
connections costs one GET per connection; at that scale DynamoDB or Redis are the better store.

Rooms live under a prefix of their own (WS_S3_ROOMS_PREFIX; by default the connections' prefix
with "-rooms/" in place of its last "/": `asgi-lambda/connections-rooms/`), outside the
connections' so that scan never lists them, and each key's parts percent-encoded: a membership is
`room/<room>/<connection_id>/<expires_at>/<endpoint>`, so that a room's members are one
ListObjectsV2 per page of its prefix (no object read), and `of/<connection_id>/<expires_at>/<room>`
lists a connection's rooms. S3 writes one object at a time, so a $connect with rooms is its record,
then two objects per room; join checks the record (HeadObject) and writes the two objects; pop lists
the connection's rooms and deletes them (one DeleteObjects) before its record: a membership is
written after its record and deleted before it. A join racing a $disconnect may leave one behind;
a broadcast to the room finds it gone (410) and removes it. update is a PutObject conditioned on
the ETag this environment last read (If-Match), so a session saved late never brings back a
connection that has gone; when another environment wrote meanwhile, it checks the record is still
there and writes anyway: the later write wins. The lifecycle rule should cover the rooms' prefix too.

The low-level client is made on first use and reused; its blocking calls run in worker threads so
the shared loop stays free. Short timeouts and one retry make an unreachable endpoint fail within
seconds; any other failure of boto3's, reading a body included, is tried once more on a new client
(aws.py), then refused as StoreUnavailable.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import quote, unquote

from botocore.config import Config  # type: ignore[import-untyped]

from ..exceptions import ConfigError
from . import StoreUnavailable
from .aws import LazyClient, cause, error_code
from .record import ConnectionRecord, Member, live

# GETs in flight at once during a scan: the pool's threads and the client's HTTP connections.
CONCURRENCY = 32

# An unreachable endpoint fails in seconds: 2 s to connect, 5 s per answer, one retry.
CONFIG = Config(
    connect_timeout=2,
    read_timeout=5,
    retries={"max_attempts": 2, "mode": "standard"},
    max_pool_connections=CONCURRENCY,
)


class S3Store:
    name = "s3"
    page = 1000  # room members per ListObjectsV2, at most (its own limit)

    def __init__(
        self,
        bucket: str,
        *,
        prefix: str = "asgi-lambda/connections/",
        region: str | None = None,
        endpoint_url: str | None = None,
        rooms_prefix: str | None = None,
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix
        self.rooms_prefix = rooms_prefix or f"{prefix[:-1] if prefix.endswith('/') else prefix}-rooms/"
        self._etags: dict[str, str] = {}  # connection id -> the ETag of its record as this environment last read it
        self.region = region
        self.endpoint_url = endpoint_url
        self._aws = LazyClient("s3", region=region, endpoint_url=endpoint_url, config=CONFIG, unavailable=self._unavailable)
        self._executor: ThreadPoolExecutor | None = None

    @property
    def client(self) -> Any:
        """The boto3 S3 client, made once (on first use, in whichever thread needs it) and reused."""
        return self._aws.get()

    def _key(self, connection_id: str) -> str:
        return self.prefix + connection_id

    def _where(self) -> str:
        return self._aws.where()

    def _unavailable(self, exc: Exception) -> StoreUnavailable:
        code = error_code(exc)
        if code == "NoSuchBucket":
            return StoreUnavailable(
                f"s3 store: bucket {self.bucket!r} does not exist {self._where()}; create it, with a "
                f"lifecycle rule expiring objects under {self.prefix!r} after 1 day"
            )
        text = cause(exc)
        if code in ("AccessDenied", "403"):
            # Without s3:ListBucket, S3 answers a GET for a missing key with 403, not NoSuchKey.
            text += " (the function needs s3:GetObject, s3:PutObject, s3:DeleteObject and s3:ListBucket)"
        return StoreUnavailable(f"s3 store (bucket {self.bucket!r}, prefix {self.prefix!r} {self._where()}): {text}")

    def _read(self, key: str) -> bytes | None:
        """The object's body, None when there is no such object (blocking)."""
        try:
            data: bytes = self._aws.call(lambda client: client.get_object(Bucket=self.bucket, Key=key)["Body"].read())
        except Exception as exc:
            if error_code(exc) == "NoSuchKey":
                return None
            raise self._unavailable(exc) from exc
        return data

    def _get(self, key: str) -> ConnectionRecord | None:
        return live(self._read(key), key=key)

    def _put(self, record: ConnectionRecord) -> None:
        self._aws.request(
            "put_object",
            Bucket=self.bucket,
            Key=self._key(record.connection_id),
            Body=record.to_json().encode(),
            ContentType="application/json",
            Metadata={"expires-at": str(record.expires_at)},
        )

    def _list(self) -> list[str]:
        """Every key under the prefix, following ListObjectsV2's pages (blocking)."""
        parameters: dict[str, Any] = {"Bucket": self.bucket, "Prefix": self.prefix}
        keys: list[str] = []
        while True:
            page = self._aws.request("list_objects_v2", **parameters)
            # The prefix itself may exist as an empty "folder" object made in the console.
            keys.extend(item["Key"] for item in page.get("Contents", ()) if item["Key"] != self.prefix)
            if not page.get("IsTruncated"):
                return keys
            parameters["ContinuationToken"] = page["NextContinuationToken"]

    def _pool(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=CONCURRENCY, thread_name_prefix="asgi-lambda-s3")
        return self._executor

    async def save(self, record: ConnectionRecord) -> None:
        await asyncio.to_thread(self._put, record)
        if record.rooms:
            rooms = list(dict.fromkeys(record.rooms))
            running_loop = asyncio.get_running_loop()
            pool = self._pool()
            await asyncio.gather(*(running_loop.run_in_executor(pool, self._add, record.member(), room) for room in rooms))

    async def load(self, connection_id: str) -> ConnectionRecord | None:
        return await asyncio.to_thread(self._load, connection_id)

    async def pop(self, connection_id: str) -> ConnectionRecord | None:
        self._etags.pop(connection_id, None)
        return await asyncio.to_thread(self._pop_with_rooms, connection_id)

    async def scan(self) -> list[ConnectionRecord]:
        keys = await asyncio.to_thread(self._list)
        if not keys:
            return []
        running_loop = asyncio.get_running_loop()
        pool = self._pool()
        # A key deleted since the listing (a $disconnect meanwhile) reads as None, as does an expired record.
        fetched = await asyncio.gather(*(running_loop.run_in_executor(pool, self._get, key) for key in keys))
        return [record for record in fetched if record is not None]

    # --- rooms and updates ---------------------------------------------------------------------

    async def update(self, record: ConnectionRecord) -> bool:
        return await asyncio.to_thread(self._update, record)

    async def join(self, member: Member, room: str) -> bool:
        return await asyncio.to_thread(self._join, member, room)

    async def leave(self, member: Member, room: str) -> None:
        keys = [self._membership(member, room), self._of(member, room)]
        await asyncio.to_thread(self._delete_keys, keys)

    async def rooms(self, connection_id: str) -> set[str]:
        keys = await asyncio.to_thread(self._list_under, self._rooms_root() + f"of/{_part(connection_id)}/")
        now = time.time()
        found = set()
        for key in keys:
            _, expires_at, room = key.rsplit("/", 2)
            if int(expires_at) > now:
                found.add(unquote(room))
        return found

    async def members(self, room: str) -> AsyncIterator[list[Member]]:
        parameters: dict[str, Any] = {"Bucket": self.bucket, "Prefix": self._rooms_root() + f"room/{_part(room)}/", "MaxKeys": self.page}
        while True:
            page = await asyncio.to_thread(self._aws.request, "list_objects_v2", **parameters)
            now = time.time()
            found = []
            for item in page.get("Contents", ()):
                connection_id, expires_at, endpoint = item["Key"].rsplit("/", 3)[1:]
                if int(expires_at) > now:
                    found.append(Member(unquote(connection_id), unquote(endpoint), int(expires_at)))
            if found:
                yield found
            if not page.get("IsTruncated"):
                return
            parameters["ContinuationToken"] = page["NextContinuationToken"]

    def _rooms_root(self) -> str:
        if not self._rooms_usable():
            raise ConfigError(
                f"s3 store: the rooms' prefix {self.rooms_prefix!r} and the connections' {self.prefix!r} overlap, so "
                "listing one would list the other: set WS_S3_ROOMS_PREFIX (ws_config params rooms_prefix) to another, "
                "such as asgi-lambda/rooms/.",
                fix="rooms-storage",
            )
        return self.rooms_prefix

    def _membership(self, member: Member, room: str) -> str:
        """The membership's key: what a room's listing needs of the member is in it."""
        parts = (_part(room), _part(member.connection_id), str(member.expires_at), _part(member.endpoint))
        return self._rooms_root() + "room/" + "/".join(parts)

    def _of(self, member: Member, room: str) -> str:
        return self._rooms_root() + f"of/{_part(member.connection_id)}/{member.expires_at}/{_part(room)}"

    def _load(self, connection_id: str) -> ConnectionRecord | None:
        """The record, its ETag remembered for `update` (blocking)."""
        try:
            response = self._aws.call(lambda client: client.get_object(Bucket=self.bucket, Key=self._key(connection_id)))
            data: bytes = response["Body"].read()
        except Exception as exc:
            if error_code(exc) == "NoSuchKey":
                return None
            raise self._unavailable(exc) from exc
        record = live(data, key=self._key(connection_id))
        if record is not None:
            if len(self._etags) >= 1024:
                self._etags.clear()
            self._etags[connection_id] = response["ETag"]
        return record

    def _update(self, record: ConnectionRecord) -> bool:
        if record.expired():
            return False
        key = self._key(record.connection_id)
        body = record.to_json().encode()
        put: dict[str, Any] = {"Bucket": self.bucket, "Key": key, "Body": body, "ContentType": "application/json"}
        put["Metadata"] = {"expires-at": str(record.expires_at)}
        etag = self._etags.pop(record.connection_id, None)
        if etag is not None:
            try:
                response = self._aws.call(lambda client: client.put_object(**put, IfMatch=etag))
            except Exception as exc:
                code = error_code(exc)
                if code in ("NoSuchKey", "404"):
                    return False  # gone: not brought back
                if code not in ("PreconditionFailed", "412"):
                    raise self._unavailable(exc) from exc
            else:
                self._etags[record.connection_id] = response["ETag"]
                return True
        # Written elsewhere since this environment read it, or never read here: still there?
        if not self._exists(key):
            return False
        self._aws.request("put_object", **put)
        return True

    def _exists(self, key: str) -> bool:
        """Whether a live record is at the key (HeadObject: its expiry is in the metadata)."""
        try:
            head = self._aws.call(lambda client: client.head_object(Bucket=self.bucket, Key=key))
        except Exception as exc:
            if error_code(exc) in ("NoSuchKey", "404", "NotFound"):
                return False
            raise self._unavailable(exc) from exc
        return int(head.get("Metadata", {}).get("expires-at", "0")) > time.time()

    def _join(self, member: Member, room: str) -> bool:
        if member.expires_at <= time.time() or not self._exists(self._key(member.connection_id)):
            return False
        self._add(member, room)
        return True

    def _add(self, member: Member, room: str) -> None:
        """The connection's index first, then the room's: pop, which lists the first, finds it."""
        for key in (self._of(member, room), self._membership(member, room)):
            self._aws.request("put_object", Bucket=self.bucket, Key=key, Body=b"")

    def _delete_keys(self, keys: list[str]) -> None:
        for start in range(0, len(keys), 1000):  # DeleteObjects' limit
            chunk = keys[start : start + 1000]
            self._aws.request("delete_objects", Bucket=self.bucket, Delete={"Objects": [{"Key": key} for key in chunk], "Quiet": True})

    def _list_under(self, prefix: str) -> list[str]:
        parameters: dict[str, Any] = {"Bucket": self.bucket, "Prefix": prefix}
        keys: list[str] = []
        while True:
            page = self._aws.request("list_objects_v2", **parameters)
            keys.extend(item["Key"] for item in page.get("Contents", ()))
            if not page.get("IsTruncated"):
                return keys
            parameters["ContinuationToken"] = page["NextContinuationToken"]

    def _pop_with_rooms(self, connection_id: str) -> ConnectionRecord | None:
        """The connection's memberships, then its record (blocking)."""
        key = self._key(connection_id)
        data = self._read(key)
        if data is None:
            return None
        try:
            endpoint: str | None = ConnectionRecord.from_json(data).endpoint  # expired or not: its memberships go
        except ValueError:
            endpoint = None  # not a record (live logs it): only the object itself goes
        if endpoint is not None and self._rooms_usable():
            doomed = []
            for of_key in self._list_under(self.rooms_prefix + f"of/{_part(connection_id)}/"):
                _, expires_at, room = of_key.rsplit("/", 2)
                doomed += [self._membership(Member(connection_id, endpoint, int(expires_at)), unquote(room)), of_key]
            if doomed:
                self._delete_keys(doomed)
        self._aws.request("delete_object", Bucket=self.bucket, Key=key)
        return live(data, key=key)

    def _rooms_usable(self) -> bool:
        """Whether rooms can be kept beside the connections (their prefixes apart)."""
        return not (self.rooms_prefix.startswith(self.prefix) or self.prefix.startswith(self.rooms_prefix))

    async def close(self) -> None:
        client, self._aws.client = self._aws.client, None
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False)
        if client is not None:
            client.close()


def _part(text: str) -> str:
    """One part of a key, percent-encoded: a "/" in it never reads as a separator."""
    return quote(text, safe="")
