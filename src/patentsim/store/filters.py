"""The filter model shared by every backend.

A small tree of frozen dataclasses that both backends translate into their
own filter objects: ``Filter(must, should, must_not)`` whose conditions are
``Match`` (exact value or any of several), ``Range`` (numbers or RFC 3339
datetimes), ``Text`` (full-text), ``Empty`` (field missing or empty),
``HasId`` and nested ``Filter``.  ``filter_from_json`` reads Qdrant's own JSON
filter syntax (``--filter-json``) into the same tree, so a raw filter works on
the embedded backend as well as on the server.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .errors import BadFilter
from .paths import key_of

Scalar = str | int | bool


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


@dataclass
class _JsonReader:
    """Reads Qdrant's JSON filter syntax, naming the path of anything it cannot use."""

    path: list[str] = field(default_factory=list)

    def fail(self, what: str) -> BadFilter:
        where = ".".join(self.path) or "filter"
        return BadFilter(
            f"--filter-json: {what} at {where}",
            "use Qdrant's filter syntax, e.g. "
            '{"must": [{"key": "country", "match": {"value": "KR"}}]}',
        )

    def filter(self, obj: Any) -> Filter:
        if not isinstance(obj, dict):
            raise self.fail("expected an object")
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
            return HasId(tuple(str(i) for i in obj["has_id"]))
        if "is_empty" in obj:
            return Empty(key_of(str(obj["is_empty"]["key"])))
        if "is_null" in obj:
            return Empty(key_of(str(obj["is_null"]["key"])))
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
            return Match(key, (match["value"],))
        if "any" in match:
            return Match(key, tuple(match["any"]))
        if "except" in match:
            return Filter(must_not=(Match(key, tuple(match["except"])),))
        if "text" in match:
            return Text(key, str(match["text"]))
        raise self.fail(f"unsupported match {sorted(match)}")

    def range(self, key: str, bounds: Any) -> Range:
        if not isinstance(bounds, dict) or not set(bounds) <= {"gt", "gte", "lt", "lte"}:
            raise self.fail("'range' takes gt, gte, lt, lte")
        values = list(bounds.values())
        is_date = any(isinstance(v, str) for v in values)
        return Range(key, datetime=is_date, **bounds)


def filter_from_json(obj: Any) -> Filter:
    """A ``Filter`` from Qdrant's JSON filter syntax; ``BadFilter`` when unusable."""
    return _JsonReader().filter(obj)


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
