"""The typed reading of event fields. Each source declares, once and as data, the fields it reads
and the types it accepts (`Fields`, its `fields` attribute); an event that breaks them is refused
with `MalformedEvent`, whose message names the source, the field (`cookies[2]`,
`multiValueHeaders['accept'][0]`), what was expected and what came.

Two depths, so that a well-formed event pays little. The cheap one, on every invocation, checks each
declared field's type, and the contents of lists of lists, once: where the mapping reads the field,
on the value it read (a reading that fails on another type, a string's methods or a mapping's
items, is the check; where none would fail, the mapping compares the type and raises `Unfit`), and
those fields are declared `read`; `fits` checks the others, before the mapping. Map and list
contents are checked by being read (a header value that is not a string fails as it is read).
`problem` (only once something failed) walks the whole event, contents and text included, to name
the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol


class FieldError(ValueError):
    """One field of an event breaks its source's format; the adapter adds the source's name."""

    def __init__(self, path: str, expected: str, got: str) -> None:
        super().__init__(f"{path} is {got}; expected {expected}")
        self.path, self.expected, self.got = path, expected, got


class Unfit(TypeError):
    """Raised by a mapping that finds a field it read of a type its `Fields` do not allow, where
    the reading itself would not fail (a list is searched with `in`, anything formats). The adapter
    then asks `Fields.problem` which field, to name it, as for any other failed reading."""


# The types a field may have, for those checks: `type(value) in TEXT_OR_NULL`.
TEXT_OR_NULL = frozenset({str, type(None)})
FLAG_OR_NULL = frozenset({bool, type(None)})
LIST_OR_NULL = frozenset({list, type(None)})
OBJECT_OR_NULL = frozenset({dict, type(None)})


if TYPE_CHECKING:  # a Protocol class costs a cold start 0.1 ms to build

    class Spec(Protocol):
        """What one field may hold."""

        expected: str

        def fits(self, value: Any) -> bool:
            """The cheap check, made on every event: the value's type (None is the caller's business)."""

        def problem(self, value: Any, path: str) -> FieldError | None:
            """The thorough check, made once something failed: the first fault, with its path."""


class Scalar:
    def __init__(self, kind: type, expected: str) -> None:
        self.kind = kind
        self.expected = expected

    def fits(self, value: Any) -> bool:
        return type(value) is self.kind

    def problem(self, value: Any, path: str) -> FieldError | None:
        if type(value) is not self.kind:
            return FieldError(path, self.expected, describe(value))
        if isinstance(value, str) and not encodable(value):
            return FieldError(path, self.expected, "a string that is not valid Unicode (a lone surrogate)")
        return None


TEXT = Scalar(str, "a string")
FLAG = Scalar(bool, "true or false")
NUMBER = Scalar(int, "a whole number")


class Nullable:
    """Where AWS sends null for "none" (`queryStringParameters`, `multiValueHeaders`, `body`, ...)."""

    def __init__(self, inner: Spec) -> None:
        self.inner = inner
        self.expected = f"{inner.expected} or null"

    def fits(self, value: Any) -> bool:
        return value is None or self.inner.fits(value)

    def problem(self, value: Any, path: str) -> FieldError | None:
        fault = None if value is None else self.inner.problem(value, path)
        if fault is not None and fault.path == path:  # the value itself is wrong: null would do too
            return FieldError(path, self.expected, fault.got)
        return fault


class ListOf:
    def __init__(self, item: Spec) -> None:
        self.item = item
        self.expected = f"a list of {plural(item.expected)}"

    def fits(self, value: Any) -> bool:
        # Records (a Lambda@Edge event's one) are checked as deep as any object; lists of
        # strings are read by the mapping, which fails on an item that is not one.
        return type(value) is list and (not isinstance(self.item, Fields) or all(map(self.item.fits, value)))

    def problem(self, value: Any, path: str) -> FieldError | None:
        if type(value) is not list:
            return FieldError(path, self.expected, describe(value))
        return first(self.item.problem(item, f"{path}[{index}]") for index, item in enumerate(value))


class MapOf:
    """A JSON object of any keys (strings), each value of one kind: headers, query parameters."""

    def __init__(self, value: Spec) -> None:
        self.value = value
        self.expected = f"an object of {plural(value.expected)}"
        # A string where a list belongs would be read letter by letter: check those at once.
        self.lists = isinstance(value, ListOf)

    def fits(self, value: Any) -> bool:
        return type(value) is dict and (not self.lists or set(map(type, value.values())) <= ONLY_LISTS)

    def problem(self, value: Any, path: str) -> FieldError | None:
        if type(value) is not dict:
            return FieldError(path, self.expected, describe(value))
        for key, item in value.items():
            if not encodable(key):
                return FieldError(f"{path}[{key!r}]", "a key that is valid Unicode", "a key with a lone surrogate")
            fault = self.value.problem(item, f"{path}[{key!r}]")
            if fault is not None:
                return fault
        return None


ONLY_LISTS = frozenset({list})


class Fields:
    """A JSON object with known fields; others are ignored. `required` fields must be present and
    not null; the rest may be missing or null only where their spec is Nullable. `read` names the
    fields the mapping checks itself: it reads them in a way that fails on any other type (a
    string's methods, a mapping's items), or checks the type of what it read and raises `Unfit`.
    `fits` leaves those to the mapping, so that a field is looked at once per request, and
    `problem` still names them when the mapping fails."""

    expected = "an object"

    def __init__(self, fields: Mapping[str, Spec], *, required: tuple[str, ...] = (), read: tuple[str, ...] = ()) -> None:
        self.fields = dict(fields)
        self.required = frozenset(required)
        # For the cheap check: a field whose type alone decides is one set look-up, (name, the
        # types it may have, None for "missing or null" where allowed); the others call their spec.
        self.by_type: list[tuple[str, frozenset[type]]] = []
        self.by_spec: list[tuple[str, Spec]] = []
        for name, spec in self.fields.items():
            if name in read:
                continue
            nullable = isinstance(spec, Nullable)
            inner = spec.inner if isinstance(spec, Nullable) else spec
            if (
                isinstance(inner, Scalar | ListOf)
                and not (isinstance(inner, ListOf) and isinstance(inner.item, Fields))
                or (isinstance(inner, MapOf) and not inner.lists)
            ):
                if nullable or name in self.required:
                    kind = inner.kind if isinstance(inner, Scalar) else list if isinstance(inner, ListOf) else dict
                    self.by_type.append((name, frozenset({kind, type(None)} if nullable else {kind})))
                    continue
            self.by_spec.append((name, spec))
        # Whether `fits` has anything to check: nothing once the mapping checks every field.
        self.unread = bool(self.by_type or self.by_spec)

    def fits(self, value: Any) -> bool:
        if type(value) is not dict:
            return False
        get = value.get
        for name, kinds in self.by_type:
            if type(get(name)) not in kinds:
                return False
        for name, spec in self.by_spec:
            item = get(name)
            if item is None:
                if name in self.required or name in value and not isinstance(spec, Nullable):
                    return False
            elif not spec.fits(item):
                return False
        return True

    def problem(self, value: Any, path: str) -> FieldError | None:
        if type(value) is not dict:
            return FieldError(path or "the event", self.expected, describe(value))
        for name, spec in self.fields.items():
            where = f"{path}.{name}" if path else name
            if name not in value:
                if name in self.required:
                    return FieldError(where, spec.expected, "missing")
                continue
            item = value[name]
            if item is None and (name in self.required or not isinstance(spec, Nullable)):
                return FieldError(where, spec.expected, "null")
            fault = spec.problem(item, where) if item is not None else None
            if fault is not None:
                return fault
        return None

    def check(self, event: Any) -> None:
        """Raise FieldError naming the first field of `event` that breaks these fields."""
        if not self.fits(event):
            raise self.problem(event, "") or FieldError("the event", "the documented format", "something else")


class Either:
    """One of two shapes: VPC Lattice sends a header's values as a list, or as one string."""

    def __init__(self, one: Spec, other: Spec) -> None:
        self.one, self.other = one, other
        self.expected = f"{one.expected} or {other.expected}"

    def fits(self, value: Any) -> bool:
        return self.one.fits(value) or self.other.fits(value)

    def problem(self, value: Any, path: str) -> FieldError | None:
        if self.one.fits(value):
            return self.one.problem(value, path)
        if self.other.fits(value):
            return self.other.problem(value, path)
        return FieldError(path, self.expected, describe(value))


class Anything:
    """A field whose contents the source passes on without reading (a non-HTTP event's records)."""

    expected = "anything"

    def fits(self, value: Any) -> bool:
        return True

    def problem(self, value: Any, path: str) -> FieldError | None:
        return None


def first(faults: Any) -> FieldError | None:
    return next((fault for fault in faults if fault is not None), None)


def encodable(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def plural(expected: str) -> str:
    return {"a string": "strings", "true or false": "true or false", "a whole number": "whole numbers"}.get(expected, expected)


def describe(value: Any) -> str:
    """What came, for a message: its JSON type and a short excerpt."""
    if value is None:
        return "null"
    name = {str: "a string", bool: "a boolean", int: "a number", float: "a number", list: "a list", dict: "an object"}
    text = repr(value)
    return f"{name.get(type(value), type(value).__name__)} ({text[:40]}{'...' if len(text) > 40 else ''})"


def explain(fields: Fields, event: Any, error: BaseException) -> FieldError:
    """The field to blame for an error the mapping raised, or the error itself when no field is."""
    fault = fields.problem(event, "")
    return fault or FieldError("the event", "the documented format", f"not readable ({type(error).__name__}: {error})")
