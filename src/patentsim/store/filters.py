"""The filter model shared by every backend.

A small tree of frozen dataclasses that both backends translate into their
own filter objects: ``Filter(must, should, must_not)`` whose conditions are
``Match`` (exact value or any of several), ``Range`` (numbers or RFC 3339
datetimes), ``Text`` (full-text), ``Empty`` (field missing or empty),
``HasId`` and nested ``Filter``.  ``translate`` walks the tree once for both:
a backend only says how each part is made (a ``FilterParts``).
``filter_from_json`` reads Qdrant's own JSON filter syntax (``--filter-json``)
into the same tree, so a raw filter works on the embedded backend as well as
on the server.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..dates import json_bound
from ..errors import BadFilter, setting
from .paths import json_path, key_of

Scalar = str | int | bool
MAX_FILTER_BYTES = 1 << 20  # a filter read from a file (--filter-json @FILE)
MAX_FILTER_DEPTH = 32  # filters nested in filters
_JSON_EXAMPLE = (
    f"e.g. {setting('filter_json')} "
    '\'{"must": [{"key": "country", "match": {"value": "KR"}}]}\''
)


@dataclass(frozen=True)
class Match:
    """``key`` equals one of ``values`` (for list fields: any element does)."""

    key: str
    values: tuple[Scalar, ...]


@dataclass(frozen=True)
class Range:
    """``key`` within bounds; ``datetime`` says the bounds are RFC 3339 strings."""

    key: str
    gt: float | str | None = None
    gte: float | str | None = None
    lt: float | str | None = None
    lte: float | str | None = None
    datetime: bool = False


@dataclass(frozen=True)
class Text:
    """Full-text match: every word of ``text`` occurs in ``key``."""

    key: str
    text: str


@dataclass(frozen=True)
class Empty:
    """``key`` is missing, null or an empty list."""

    key: str


@dataclass(frozen=True)
class HasId:
    """The point id is one of ``ids``."""

    ids: tuple[str, ...]


@dataclass(frozen=True)
class Filter:
    must: tuple[Condition, ...] = ()
    should: tuple[Condition, ...] = ()
    must_not: tuple[Condition, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.must or self.should or self.must_not)


Condition = Match | Range | Text | Empty | HasId | Filter


def all_of(*parts: Filter | Condition | None) -> Filter | None:
    """AND together filters and conditions, dropping the empty ones."""
    must: list[Condition] = []
    for part in parts:
        if part is None:
            continue
        if isinstance(part, Filter):
            if not part:
                continue
            if not part.should and not part.must_not:
                must.extend(part.must)
                continue
        must.append(part)
    return Filter(must=tuple(must)) if must else None


class FilterParts(Protocol):
    """How one backend makes the parts of its filter objects; keys come as JSON paths."""

    def match_value(self, key: str, value: Scalar) -> Any: ...

    def match_any(self, key: str, values: list[Scalar]) -> Any: ...

    def range(self, key: str, bounds: Range) -> Any: ...

    def text(self, key: str, text: str) -> Any: ...

    def empty(self, key: str) -> Any: ...

    def has_id(self, ids: tuple[str | int, ...]) -> Any: ...

    def filter(
        self, must: list[Any] | None, should: list[Any] | None, must_not: list[Any] | None
    ) -> Any: ...


def translate(flt: Filter | None, parts: FilterParts) -> Any:
    """``flt`` as a backend's filter object, made by ``parts``; None for none (or an empty one)."""
    return _translate(flt, parts) if flt else None


def _translate(flt: Filter, parts: FilterParts) -> Any:
    def cond(c: Condition) -> Any:
        if isinstance(c, Filter):
            return _translate(c, parts)
        if isinstance(c, Match):
            key = json_path(c.key)
            values = list(c.values)
            if len(values) == 1:
                return parts.match_value(key, values[0])
            kinds = {type(v) for v in values}
            if bool in kinds or len(kinds) > 1:
                # "Any of" takes strings or integers, not booleans nor a mixture (the engine
                # raised a TypeError on [0, ""], a hypothesis example): one exact match each.
                return parts.filter(None, [parts.match_value(key, v) for v in values], None)
            return parts.match_any(key, values)
        if isinstance(c, Range):
            return parts.range(json_path(c.key), c)
        if isinstance(c, Text):
            return parts.text(json_path(c.key), c.text)
        if isinstance(c, Empty):
            return parts.empty(json_path(c.key))
        if isinstance(c, HasId):
            return parts.has_id(tuple(_point_id(i) for i in c.ids))
        raise TypeError(f"unknown condition {c!r}")

    return parts.filter(
        [cond(c) for c in flt.must] or None,
        [cond(c) for c in flt.should] or None,
        [cond(c) for c in flt.must_not] or None,
    )


def _point_id(value: str) -> str | int:
    """A point id as the engines take it: an integer id as an integer (as a string the
    engines read it as a malformed UUID and fail), a UUID as its string."""
    return int(value) if value.isascii() and value.isdigit() else value


@dataclass
class _JsonReader:
    """Reads Qdrant's JSON filter syntax, naming the path of anything it cannot use."""

    path: list[str] = field(default_factory=list)

    def fail(self, what: str) -> BadFilter:
        where = ".".join(self.path) or "filter"
        return BadFilter(
            f"{setting('filter_json')}: {what} at {where}",
            "use Qdrant's filter syntax, e.g. "
            '{"must": [{"key": "country", "match": {"value": "KR"}}]}',
        )

    def filter(self, obj: Any) -> Filter:
        if not isinstance(obj, dict):
            raise self.fail("expected an object")
        if len(self.path) > MAX_FILTER_DEPTH:
            raise BadFilter(
                f"{setting('filter_json')}: nested more than {MAX_FILTER_DEPTH} levels deep",
                _JSON_EXAMPLE,
            )
        unknown = set(obj) - {"must", "should", "must_not"}
        if unknown:
            raise self.fail(f"unsupported key(s) {sorted(unknown)}")
        parts: dict[str, tuple[Condition, ...]] = {}
        for clause in ("must", "should", "must_not"):
            items = obj.get(clause) or []
            if isinstance(items, dict):
                items = [items]
            if not isinstance(items, list):
                raise self.fail(f"'{clause}' must be a list")
            conditions = []
            for i, item in enumerate(items):
                self.path.append(f"{clause}[{i}]")
                conditions.append(self.condition(item))
                self.path.pop()
            parts[clause] = tuple(conditions)
        return Filter(**parts)

    def condition(self, obj: Any) -> Condition:
        if not isinstance(obj, dict):
            raise self.fail("expected an object")
        if {"must", "should", "must_not"} & set(obj):
            return self.filter(obj)
        if "has_id" in obj:
            ids = obj["has_id"]
            if not isinstance(ids, list) or not all(_is_id(i) for i in ids):
                raise self.fail("'has_id' takes a list of point ids (UUIDs or integers)")
            return HasId(tuple(str(i) for i in ids))
        for empty in ("is_empty", "is_null"):
            if empty in obj:
                inner = obj[empty]
                if not isinstance(inner, dict) or not isinstance(inner.get("key"), str):
                    raise self.fail(f"'{empty}' takes {{\"key\": FIELD}}")
                return Empty(key_of(inner["key"]))
        key = obj.get("key")
        if not isinstance(key, str):
            raise self.fail("a field condition needs a 'key'")
        key = key_of(key)  # '"발명의 명칭"' in Qdrant's path syntax names the field 발명의 명칭
        if "match" in obj:
            return self.match(key, obj["match"])
        if "range" in obj:
            return self.range(key, obj["range"])
        raise self.fail(f"unsupported condition {sorted(obj)}")

    def match(self, key: str, match: Any) -> Condition:
        if not isinstance(match, dict):
            raise self.fail("'match' must be an object")
        if "value" in match:
            return Match(key, (self.scalar(match["value"], "value"),))
        if "any" in match:
            return Match(key, self.scalars(match["any"], "any"))
        if "except" in match:
            return Filter(must_not=(Match(key, self.scalars(match["except"], "except")),))
        if "text" in match:
            if not isinstance(match["text"], str):
                raise self.fail("'match.text' takes a string")
            return Text(key, match["text"])
        raise self.fail(f"unsupported match {sorted(match)}")

    def scalar(self, value: Any, what: str) -> Scalar:
        if not isinstance(value, (str, int)):  # bool is an int
            raise self.fail(f"'match.{what}' takes a string, an integer or true/false")
        if isinstance(value, int) and not -(2**63) <= value < 2**63:
            raise self.fail(f"'match.{what}' {value} is beyond the 64-bit integers")
        return value

    def scalars(self, values: Any, what: str) -> tuple[Scalar, ...]:
        if not isinstance(values, list):
            raise self.fail(f"'match.{what}' takes a list")
        return tuple(self.scalar(v, what) for v in values)

    def range(self, key: str, bounds: Any) -> Range:
        if not isinstance(bounds, dict) or not set(bounds) <= {"gt", "gte", "lt", "lte"}:
            raise self.fail("'range' takes gt, gte, lt, lte")
        given = {k: v for k, v in bounds.items() if v is not None}
        is_date = bool(given) and all(isinstance(v, str) for v in given.values())
        order: dict[str, Any] = {}
        for name, v in given.items():
            if is_date:
                try:
                    order[name] = json_bound(v)
                except ValueError:
                    raise self.fail(f"'range' bound {v!r} is not an RFC 3339 date-time") from None
            elif isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise self.fail("'range' bounds are finite numbers, or all RFC 3339 date-times")
            else:
                order[name] = v
        # Both bounds of one side (lt and lte): the engine's index uses one of them, so keep
        # the one that decides (the tighter; the strict one when they are equal).
        for strict, loose, tighter in (("lt", "lte", min), ("gt", "gte", max)):
            if strict in order and loose in order:
                drop = loose if tighter(order[strict], order[loose]) == order[strict] else strict
                del given[drop]
        return Range(key, datetime=is_date, **given)


def _is_id(value: Any) -> bool:
    """A point id as Qdrant takes it: a UUID, or an unsigned 64-bit integer."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return 0 <= value < 2**64
    if isinstance(value, str):
        try:
            uuid.UUID(value)
        except ValueError:
            return False
        return True
    return False


def filter_from_json(obj: Any) -> Filter:
    """A ``Filter`` from Qdrant's JSON filter syntax; ``BadFilter`` when unusable."""
    return _JsonReader().filter(obj)


def filter_json_text(raw: str) -> Any:
    """The JSON value of a ``filter_json`` setting: JSON text, or ``@FILE`` to read it from a
    file (at most ``MAX_FILTER_BYTES``: ``@/dev/zero`` ends at once)."""
    text = raw
    if raw.startswith("@"):
        try:
            with open(raw[1:], "rb") as fh:
                data = fh.read(MAX_FILTER_BYTES + 1)
        except OSError as exc:
            raise BadFilter(
                f"{setting('filter_json')} {raw}: cannot read the file ({exc.strerror})"
            ) from None
        if len(data) > MAX_FILTER_BYTES:
            raise BadFilter(
                f"{setting('filter_json')} {raw}: the file is larger than "
                f"{MAX_FILTER_BYTES // 1024:,} KB, which no filter is",
                "name the file that holds the filter",
            )
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise BadFilter(
                f"{setting('filter_json')} {raw}: the file is not UTF-8 text", _JSON_EXAMPLE
            ) from None
    try:
        return json.loads(text)
    except RecursionError:
        raise BadFilter(
            f"{setting('filter_json')}: nested more than {MAX_FILTER_DEPTH} levels deep",
            _JSON_EXAMPLE,
        ) from None
    except ValueError as exc:
        raise BadFilter(
            f"{setting('filter_json')} is not valid JSON: {exc}", _JSON_EXAMPLE
        ) from None


def keys_in(flt: Filter | Condition | None) -> Sequence[str]:
    """Every payload key a filter mentions (to check them against the manifest)."""
    if flt is None:
        return []
    if isinstance(flt, Filter):
        out: list[str] = []
        for cond in (*flt.must, *flt.should, *flt.must_not):
            out.extend(keys_in(cond))
        return out
    if isinstance(flt, HasId):
        return []
    return [flt.key]
