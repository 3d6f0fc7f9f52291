"""The ``--where`` grammar, typed by the collection's manifest.

One condition per ``--where``; several are ANDed::

    FIELD=VALUE          exact (on a list field: any element)
    FIELD!=VALUE         not equal (on a list field: no element); documents without the field pass
    FIELD=A|B|C          any of; FIELD!=A|B|C: none of
    FIELD>=X  >  <=  <   numbers, or dates (2015, 2015-03, 2015-03-01, 20150301,
                         2015-03-01T09:30:00Z; the spellings of patentsim.dates)
    FIELD~WORDS          full text: every word occurs (case-insensitive); on the text
                         fields the words are analyzed like the documents (Korean
                         particles and endings dropped, English stemmed), so
                         abstract~센서 finds 센서를 and 센서의; FIELD~A|B: either
    FIELD exists         the document has the field
    FIELD missing        it does not

Values may be quoted (``"..."`` or ``'...'``), which keeps ``|``, spaces and operator
characters literal: ``applicant="삼성전자|LG전자"`` is one value.  A date that names a
day, month or year means that whole span: ``date=2015-03`` is any time in March 2015,
``date>2015`` is from 2016-01-01 on, ``date<=2015-03-01`` is up to the end of that day.

``parse_where`` turns one expression into a condition of the shared filter model
(``patentsim.store.filters``); ``where_filter`` ANDs several.  Anything that cannot
work (an unknown field, a bad operator, an unparsable value, an operator the
field's type does not take) raises ``BadFilter`` naming the field, its type and
an example that works.
"""

from __future__ import annotations

import difflib
import math
import re
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..dates import DateSpellingError, parse_when
from ..embed.analyzer import WORD
from ..errors import BadFilter
from ..store.filters import Condition, Empty, Filter, Match, Range, Text
from ..store.manifest import Manifest
from ..store.payload import BOOL_WORDS, RESERVED_INDEXES

OPERATORS = ("=", "!=", ">", ">=", "<", "<=", "~")
WORD_OPERATORS = ("exists", "missing")
_OP_CHARS = "=!<>~"
_QUOTES = "\"'"

# What each field type accepts, for messages.
_TAKES = {
    "keyword": "=, !=, A|B, ~, exists, missing",
    "text": "=, !=, A|B, ~, exists, missing",
    "integer": "=, !=, A|B, >, >=, <, <=, exists, missing",
    "float": "=, !=, A|B, >, >=, <, <=, exists, missing",
    "datetime": "=, !=, A|B, >, >=, <, <= (ISO 8601 dates), exists, missing",
    "bool": "=true, =false, !=, exists, missing",
}

# The tool's own payload fields, usable in --where like any other.
RESERVED_FIELDS = {k: kind for k, kind in RESERVED_INDEXES.items() if k != "_hash"}

SampleFn = Callable[[str], Any]


class FieldNameCase(UserWarning):
    """A field name written in another case than the collection's (``Applicant=``)."""


@dataclass(frozen=True)
class FieldInfo:
    """A payload field as the manifest describes it."""

    name: str
    type: str  # keyword, text, integer, float, datetime, bool
    list: bool = False
    mixed: bool = False
    terms: str | None = None  # the payload path of the field's analyzed terms, if any
    names: str | None = None  # the payload path of a name field's keys (store/names.py)


AnalyzeFn = Callable[[str], list[str]]
# (field, name as written) -> the name's key in that field (store.names.NameSpec.key).
NameKeyFn = Callable[[str, str], str]


def fields_of(manifest: Manifest) -> dict[str, FieldInfo]:
    """The queryable fields of a collection: its columns in the files' order (the manifest's
    ``field_order``), plus ``_key`` and ``_row``."""
    out: dict[str, FieldInfo] = {}
    specs = manifest.fields
    order = [f for f in manifest.field_order if f in specs]
    for name in [*order, *(f for f in specs if f not in order)]:
        spec = specs[name]
        out[name] = FieldInfo(
            name, spec.type, list=spec.list, mixed=spec.mixed, terms=spec.terms, names=spec.names
        )
    for name, kind in RESERVED_FIELDS.items():
        out.setdefault(name, FieldInfo(name, kind))
    return out


@dataclass(frozen=True)
class _Value:
    text: str


# -- parsing ---------------------------------------------------------------------------


def where_filter(
    expressions: Iterable[str],
    fields: Mapping[str, FieldInfo],
    *,
    sample: SampleFn | None = None,
    analyze: AnalyzeFn | None = None,
    name_key: NameKeyFn | None = None,
) -> Filter | None:
    """Several ``--where`` expressions ANDed into one filter (None when there are none)."""
    conditions = tuple(
        parse_where(e, fields, sample=sample, analyze=analyze, name_key=name_key)
        for e in expressions
    )
    return Filter(must=conditions) if conditions else None


def parse_where(
    expression: str,
    fields: Mapping[str, FieldInfo],
    *,
    sample: SampleFn | None = None,
    analyze: AnalyzeFn | None = None,
    name_key: NameKeyFn | None = None,
) -> Condition:
    """One ``--where`` expression as a filter condition; ``BadFilter`` when it cannot work.

    ``sample(field)`` may return one stored value of the field: error messages then show
    an example with a real value.  ``analyze(words)``: the collection's analyzer, which
    ``~`` applies on fields with analyzed terms.  ``name_key(field, name)``: the key of a
    name in a name field (the collection's aliases); ``=`` and ``!=`` on a name field
    compare keys, so ``applicant=삼성전자`` finds ``삼성전자 주식회사`` and ``(주)삼성전자``.
    """
    field_text, op, rest = _split(expression, fields)
    info = resolve_field(field_text, fields, expression, sample=sample)
    ctx = _Context(expression, info, sample)
    if op in WORD_OPERATORS:
        return Empty(info.name) if op == "missing" else Filter(must_not=(Empty(info.name),))
    values = _values(rest, ctx)
    if op == "~":
        return _text(values, ctx, analyze)
    if op in ("=", "!="):
        cond = _equals(values, ctx, name_key)
        return Filter(must_not=(cond,)) if op == "!=" else cond
    if len(values) > 1:
        raise ctx.fail(f"{op} takes one value, not a list of alternatives")
    return _compare(op, values[0], ctx)


def _split(expression: str, fields: Mapping[str, FieldInfo]) -> tuple[str, str, str]:
    """(field, operator, rest) of an expression."""
    text = expression.strip()
    if not text:
        raise BadFilter("--where: empty condition", 'write FIELD=VALUE, e.g. --where "country=KR"')
    if text[0] in _QUOTES:
        end = _closing_quote(text, 0)
        if end < 0:
            raise BadFilter(f"--where {expression!r}: the quoted field name is not closed")
        field, tail = _unescape(text[1:end]), text[end + 1 :].lstrip()
        if tail.lower() in WORD_OPERATORS:
            return field, tail.lower(), ""
    else:
        i = 0
        while i < len(text) and text[i] not in _OP_CHARS:
            i += 1
        field, tail = text[:i], text[i:]
    if tail and tail[0] in _OP_CHARS:
        j = 0
        while j < len(tail) and tail[j] in _OP_CHARS:
            j += 1
        op = tail[:j]
        if op not in OPERATORS:
            raise _bad_operator(expression, field.strip(), op, fields)
        return field.strip(), op, tail[j:]
    # No operator character: FIELD exists / FIELD missing.
    words = (field + tail).strip()
    m = re.fullmatch(r"(.*?)\s+(\w+)", words, re.S)
    if m and m.group(2).lower() in WORD_OPERATORS:
        return m.group(1).strip(), m.group(2).lower(), ""
    if m and m.group(1).strip() in fields:
        raise _bad_operator(expression, m.group(1).strip(), m.group(2), fields)
    raise BadFilter(
        f"--where {expression!r}: no operator",
        "write FIELD=VALUE, FIELD>=X, FIELD~WORDS, 'FIELD exists' or 'FIELD missing' "
        '(operators: = != > >= < <= ~), e.g. --where "country=KR"',
    )


def _bad_operator(
    expression: str, field: str, op: str, fields: Mapping[str, FieldInfo]
) -> BadFilter:
    suggestion = {"==": "=", "=>": ">=", "=<": "<=", "<>": "!=", "!": "!=", "=~": "~"}.get(op)
    info = fields.get(field)
    what = f"'{field}' is {_a(info.type)} field that takes {_TAKES[info.type]}" if info else ""
    hint = f"did you mean {field}{suggestion}...? " if suggestion else ""
    hint += "operators: = != > >= < <= ~ exists missing"
    if info:
        hint += f"; e.g. --where {_quote_arg(example(info))}"
    return BadFilter(
        f"--where {expression!r}: unknown operator '{op}'" + (f" ({what})" if what else ""), hint
    )


def resolve_field(
    name: str,
    fields: Mapping[str, FieldInfo],
    expression: str = "",
    *,
    sample: SampleFn | None = None,
) -> FieldInfo:
    """The field ``name`` names: exact, then with dots and underscores taken for each other
    (``priority_date`` finds a column ``priority.date``, and the other way round), then
    ignoring case."""
    if name in fields:
        return fields[name]
    dotted = name.replace(".", "_")
    if dotted in fields:
        return fields[dotted]
    spelled = [f for f in fields if f.replace(".", "_") == dotted]
    if len(spelled) == 1:
        return fields[spelled[0]]
    folded = [f for f in fields if f.lower() == name.lower()]
    if len(folded) == 1:
        warnings.warn(
            f"{'--where ' + repr(expression) + ': ' if expression else ''}field '{name}' "
            f"taken as '{folded[0]}' (field names match whatever their case)",
            FieldNameCase,
            stacklevel=2,
        )
        return fields[folded[0]]
    where = f"--where {expression!r}: " if expression else ""
    public = [f for f in fields if not f.startswith("_")]
    close = difflib.get_close_matches(name, public, n=1, cutoff=0.5)
    listing = ", ".join(f"{f} ({fields[f].type})" for f in public)
    hint = f"did you mean '{close[0]}' ({fields[close[0]].type})? " if close else ""
    if public:
        target = fields[close[0] if close else public[0]]
        hint += f"e.g. --where {_quote_arg(example(target, _safe_sample(sample, target.name)))}"
        hint += f"; fields: {listing}"
    if not name:
        raise BadFilter(f"{where}no field name before the operator", hint)
    raise BadFilter(f"{where}unknown field '{name}'", hint)


def _closing_quote(text: str, start: int) -> int:
    quote = text[start]
    i = start + 1
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            i += 2
            continue
        if text[i] == quote:
            return i
        i += 1
    return -1


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def _values(rest: str, ctx: _Context) -> list[_Value]:
    """The alternatives of a value: split at '|' outside quotes; quotes keep text literal."""
    out: list[_Value] = []
    parts: list[str] = []
    quoted = False
    i = 0
    text = rest.strip()
    buf = ""
    while i < len(text):
        ch = text[i]
        if ch in _QUOTES and not buf.strip():
            end = _closing_quote(text, i)
            if end < 0:
                raise ctx.fail("a quoted value is not closed")
            parts.append(_unescape(text[i + 1 : end]))
            quoted = True
            buf = ""
            i = end + 1
            # Only spaces may follow a closing quote before the next '|'.
            while i < len(text) and text[i] == " ":
                i += 1
            if i < len(text) and text[i] != "|":
                raise ctx.fail("unexpected text after a quoted value")
            continue
        if ch == "|":
            out.append(_finish(parts, buf, quoted, ctx))
            parts, buf, quoted = [], "", False
        else:
            buf += ch
        i += 1
    out.append(_finish(parts, buf, quoted, ctx))
    return out


def _finish(parts: list[str], buf: str, quoted: bool, ctx: _Context) -> _Value:
    if quoted:
        return _Value("".join(parts))
    value = buf.strip()
    if not value:
        raise ctx.fail(
            "empty value",
            extra="to select documents without the field write "
            f"--where {_quote_arg(ctx.info.name + ' missing')}",
        )
    return _Value(value)


# -- typing the values -----------------------------------------------------------------


@dataclass
class _Context:
    expression: str
    info: FieldInfo
    sample: SampleFn | None

    def fail(self, what: str, *, extra: str = "") -> BadFilter:
        info = self.info
        kind = f"{_a(info.type)} field" + (" (a list)" if info.list else "")
        value = _safe_sample(self.sample, info.name)
        hint = f"'{info.name}' is {kind} that takes {_TAKES.get(info.type, '=')}; "
        hint += f"e.g. --where {_quote_arg(example(info, value))}"
        if extra:
            hint += f"; {extra}"
        return BadFilter(f"--where {self.expression!r}: {what}", hint)


def _a(word: str) -> str:
    return ("an " if word[:1] in "aeiou" else "a ") + word


def _safe_sample(sample: SampleFn | None, name: str) -> Any:
    if sample is None:
        return None
    try:
        return sample(name)
    except Exception:  # a helper for a message must never hide the message
        return None


def _text(values: list[_Value], ctx: _Context, analyze: AnalyzeFn | None = None) -> Condition:
    if ctx.info.type not in ("keyword", "text"):
        raise ctx.fail(f"~ (full-text match) works on text and keyword fields, not {ctx.info.type}")
    conds: list[Condition] = []
    for v in values:
        words = v.text.split()
        if not words:
            raise ctx.fail("~ needs at least one word")
        if ctx.info.terms and analyze is not None:
            terms = list(dict.fromkeys(analyze(v.text)))
            if not terms:
                raise ctx.fail(
                    f"~ {v.text!r} has no searchable words (stop words, particles and endings "
                    "are left out)"
                )
            conds.append(Text(ctx.info.terms, " ".join(terms)))
            continue
        cond = text_condition(ctx.info, " ".join(words), analyze)
        if cond is None:
            raise ctx.fail(f"~ {v.text!r}: {unmatched_numbers(ctx.info, v.text)}")
        conds.append(cond)
    return conds[0] if len(conds) == 1 else Filter(should=tuple(conds))


def text_condition(info: FieldInfo, text: str, analyze: AnalyzeFn | None) -> Condition | None:
    """A full-text match of ``text`` on the field that the engine answers as written: Qdrant's
    multilingual full-text index (text fields) leaves out every token without a letter, so
    such words (7, 1.5, 2024) are matched in the field's analyzed terms, which keep them.
    None where the field has no analyzed terms (or no analyzer is given) to match them in."""
    numbers = _letterless(text) if info.type == "text" else []
    if not numbers:
        return Text(info.name, text)
    if not info.terms or analyze is None:
        return None
    terms = list(dict.fromkeys(analyze(" ".join(numbers)))) or numbers
    parts = [Text(info.terms, " ".join(terms))]
    lettered = [w for w in WORD.findall(text) if w not in numbers]
    if lettered:
        parts.insert(0, Text(info.name, " ".join(lettered)))
    return parts[0] if len(parts) == 1 else Filter(must=tuple(parts))


def unmatched_numbers(info: FieldInfo, text: str) -> str:
    """Why ``text_condition`` has no answer for ``text`` on the field (a message)."""
    numbers = ", ".join(dict.fromkeys(_letterless(text)))
    return (
        f"the full-text index of '{info.name}' leaves out words without a letter ({numbers}) "
        f"and '{info.name}' has no analyzed terms that keep them (a new 'ingest load' of the "
        "collection's files adds them)"
    )


def _letterless(text: str) -> list[str]:
    return [w for w in WORD.findall(text) if not any(c.isalpha() for c in w)]


def _equals(values: list[_Value], ctx: _Context, name_key: NameKeyFn | None = None) -> Condition:
    kind = ctx.info.type
    name = ctx.info.name
    if ctx.info.names and kind in ("keyword", "text"):
        keys = tuple(dict.fromkeys(_key_of(name, v.text, name_key) for v in values))
        return Match(ctx.info.names, keys)
    if kind in ("keyword", "text"):
        strings = tuple(v.text for v in values)
        if ctx.info.mixed:
            # A column of text and numbers: "12" may be stored as the number 12.
            numbers = [n for n in (_number_or_none(v.text) for v in values) if n is not None]
            ints = tuple(int(n) for n in numbers if float(n).is_integer() and _fits(int(n)))
            floats = [float(n) for n in numbers if not float(n).is_integer()]
            alts: list[Condition] = [Match(name, strings)]
            if ints:
                alts.append(Match(name, ints))
            alts.extend(Range(name, gte=f, lte=f) for f in floats)
            return alts[0] if len(alts) == 1 else Filter(should=tuple(alts))
        return Match(name, strings)
    if kind == "bool":
        return Match(name, tuple(_bool(v, ctx) for v in values))
    if kind == "integer":
        numbers = [_number(v, ctx) for v in values]
        if any(not float(n).is_integer() for n in numbers):
            raise ctx.fail("an integer field never equals a fraction")
        too_big = [n for n in numbers if not _fits(int(n))]
        if too_big:
            raise ctx.fail(f"{too_big[0]} is beyond the 64-bit integers an integer field holds")
        return Match(name, tuple(int(n) for n in numbers))
    if kind == "float":
        ranges = [
            Range(name, gte=float(n), lte=float(n)) for n in (_number(v, ctx) for v in values)
        ]
        return ranges[0] if len(ranges) == 1 else Filter(should=tuple(ranges))
    if kind == "datetime":
        spans = [_span_range(name, _when(v, ctx)) for v in values]
        return spans[0] if len(spans) == 1 else Filter(should=tuple(spans))
    raise ctx.fail(f"fields of type {kind} cannot be compared")


def _key_of(field: str, text: str, name_key: NameKeyFn | None) -> str:
    if name_key is not None:
        return name_key(field, text)
    from ..store.names import name_key as plain_key

    return plain_key(text)


def _compare(op: str, value: _Value, ctx: _Context) -> Condition:
    kind = ctx.info.type
    name = ctx.info.name
    if kind in ("integer", "float"):
        n = float(_number(value, ctx))
        if op == ">":
            return Range(name, gt=n)
        if op == ">=":
            return Range(name, gte=n)
        return Range(name, lt=n) if op == "<" else Range(name, lte=n)
    if kind == "datetime":
        start, end = _when(value, ctx)
        if op == ">=":
            return Range(name, gte=start, datetime=True)
        if op == "<":
            return Range(name, lt=start, datetime=True)
        # A span (a day, a month, a year) ends where the next one starts.
        if op == ">":
            if end:
                return Range(name, gte=end, datetime=True)
            return Range(name, gt=start, datetime=True)
        if end:
            return Range(name, lt=end, datetime=True)
        return Range(name, lte=start, datetime=True)
    raise ctx.fail(f"{op} compares numbers and dates, not {kind} values")


def _span_range(name: str, span: tuple[str, str | None]) -> Range:
    start, end = span
    if end is None:
        return Range(name, gte=start, lte=start, datetime=True)
    return Range(name, gte=start, lt=end, datetime=True)


_NUMBER = re.compile(r"[+-]?(\d[\d_,]*\.?\d*|\.\d+)([eE][+-]?\d+)?")


def _number_or_none(text: str) -> int | float | None:
    s = text.strip()
    if not _NUMBER.fullmatch(s):
        return None
    s = s.replace(",", "").replace("_", "")
    try:
        return int(s)
    except ValueError:
        return float(s)


def _number(value: _Value, ctx: _Context) -> int | float:
    n = _number_or_none(value.text)
    if n is None:
        raise ctx.fail(f"{value.text!r} is not a number")
    if not math.isfinite(n):
        raise ctx.fail(f"{value.text!r} is not a finite number")
    return n


def _fits(n: int) -> bool:
    """Whether an integer fits the engine's 64-bit integers."""
    return -(2**63) <= n < 2**63


def _bool(value: _Value, ctx: _Context) -> bool:
    s = value.text.strip().lower()
    if s in BOOL_WORDS:
        return BOOL_WORDS[s]
    raise ctx.fail(f"{value.text!r} is not true or false")


def _when(value: _Value, ctx: _Context) -> tuple[str, str | None]:
    """A date value as (start, end): a span for a year, month or day; (instant, None)."""
    try:
        return parse_when(value.text)
    except DateSpellingError as e:
        raise ctx.fail(str(e), extra=e.hint) from None


# -- examples for messages -----------------------------------------------------------------


def example(info: FieldInfo, value: Any = None) -> str:
    """A ``--where`` expression that works on the field (with a real value when given one)."""
    if isinstance(value, list):
        value = value[0] if value else None
    name = info.name
    if info.type == "integer":
        return f"{name}>={value if isinstance(value, int) and not isinstance(value, bool) else 100}"
    if info.type == "float":
        return f"{name}>={value if isinstance(value, (int, float)) else 0.5}"
    if info.type == "datetime":
        return f"{name}>={str(value)[:10] if isinstance(value, str) else '2015-01-01'}"
    if info.type == "bool":
        return f"{name}=true"
    if info.type == "text":
        words = [w for w in str(value or "").split() if w.strip(".,;:()[]")]
        return f"{name}~{words[0].strip('.,;:()[]') if words else 'battery'}"
    text = str(value) if value is not None else "VALUE"
    if any(c in text for c in "|\"'" + _OP_CHARS) or text != text.strip():
        text = '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return f"{name}={text}"


def _quote_arg(expression: str) -> str:
    """An expression quoted for a shell command line."""
    if re.fullmatch(r"[\w.,:/+-]+[=~][\w.,:/+-]+", expression, re.ASCII):
        return expression
    if not any(c in expression for c in '"$`\\!'):
        return f'"{expression}"'
    return "'" + expression.replace("'", "'\\''") + "'"
