"""Names of applicants, assignees, owners and inventors: one name per party.

The same company is written many ways: ``삼성전자 주식회사``, ``삼성전자(주)``, ``(주)삼성전자``,
``SAMSUNG ELECTRONICS CO., LTD.``, ``Samsung Electronics Co., Ltd``.  ``name_key`` makes one
matching key of each spelling: Unicode compatibility forms (``㈜`` is ``(주)``), case folded,
legal forms left out (주식회사, (주), 유한회사, 株式会社, Co., Ltd., Inc., Corp., GmbH, AG,
S.A., ...), punctuation as spaces, runs of spaces as one, and no space beside Hangul or
CJK characters (``삼성 전자`` is ``삼성전자``).  An ``Aliases`` table (a CSV file the user
keeps: ``name,alias`` rows) maps the keys of names that differ beyond that, such as a
company's Korean and English names, to one.

Ingest stores each name field's keys beside the field (``_name_applicant`` beside
``applicant``; the original stays as written, for display); ``--where applicant=삼성전자``,
``search facets applicant`` and ``--group-by applicant`` use the keys.  Which columns hold
names: a known exporter's (``ingest.exporters``) or, for any file, ``columns.name_kind``,
the one place that decides it by the column's name.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import UserInputError

if TYPE_CHECKING:
    from .manifest import Manifest

NAMES_PREFIX = "_name_"  # payload keys are flat (store/paths.py): _name_applicant, ...
# Bumped when name_key changes, so that stored keys are known to be made another way.
NAME_KEY_VERSION = 1

NAME_KINDS = ("company", "person")


def names_field(field_name: str) -> str:
    """The payload key of a name field's matching keys."""
    return f"{NAMES_PREFIX}{field_name}"


def is_names_field(key: str) -> bool:
    return key.startswith(NAMES_PREFIX)


# -- the matching key -------------------------------------------------------------------------

# Legal forms written anywhere in a name: Korean, Japanese and Chinese company forms, in
# parentheses or not (NFKC has already made ㈜ "(주)" and ㈱ "(株)").
_CJK_FORMS = (
    r"\((?:주|유|재|사|합|株|有|财|財)\)",
    r"주식\s*회사",
    r"유한\s*책임\s*회사",
    r"유한\s*회사",
    r"합자\s*회사",
    r"합명\s*회사",
    r"재단\s*법인",
    r"사단\s*법인",
    r"株式会社",
    r"有限会社",
    r"合同会社",
    r"股份有限公司",
    r"有限责任公司",
    r"有限責任公司",
    r"有限公司",
)
_CJK_FORM = re.compile("|".join(_CJK_FORMS))
# Legal forms of Latin-script names, at the end of a name (after case folding); repeated, so
# "co., ltd." and "gmbh & co. kg" go whole.  Only at the end: "Company" or "AG" inside a name
# is part of it.
_LATIN_FORMS = (
    r"(?:and|&)\s*co(?:mpany)?\.?(?:,?\s*(?:inc|ltd)\.?)?",
    r"co\.?,?\s*ltd\.?",
    r"co\.?,?\s*inc\.?",
    r"co\.?",
    r"company",
    r"corp\.?",
    r"corporation",
    r"inc\.?",
    r"incorporated",
    r"ltd\.?",
    r"limited",
    r"l\.?l\.?c\.?",
    r"l\.?l\.?p\.?",
    r"l\.?p\.?",
    r"p\.?l\.?c\.?",
    r"g\.?m\.?b\.?h\.?",
    r"mbh",
    r"ag",
    r"kg(?:aa)?",
    r"se",
    r"s\.?a\.?s\.?",
    r"s\.?a\.?r\.?l\.?",
    r"s\.?a\.?",
    r"s\.?p\.?a\.?",
    r"s\.?r\.?l\.?",
    r"n\.?v\.?",
    r"b\.?v\.?",
    r"a\.?/?s",
    r"a\.?b\.?",
    r"oy(?:j)?",
    r"k\.?k\.?",
    r"pty\.?",
    r"pte\.?",
    r"bhd\.?",
    r"sdn\.?",
    r"co\.?\s*kg",
)
_LATIN_TAIL = re.compile(r"(?:^|[\s,&(]+)(?:" + "|".join(_LATIN_FORMS) + r")[\s.,)]*$", re.I)
# Foreign legal forms as Korean exports transliterate them (로베르트 보쉬 게엠베하, 헨드릭슨
# 인터내셔널 코포레이션), as a last word after a space or punctuation.
_HANGUL_FORMS = (
    r"코포레이션",
    r"코퍼레이션",
    r"인코포레이티드",
    r"인코퍼레이티드",
    r"인크\.?",
    r"리미티드",
    r"엘엘씨",
    r"엘티디\.?",
    r"컴퍼니",
    r"게엠베하",
    r"게엠바하",
    r"악티엔게젤샤프트",
    r"아게",
    r"에스\.?\s*에이\.?",
    r"에스\.?\s*에이\.?\s*에스\.?",
    r"비\.?\s*브이\.?",
    r"엔\.?\s*브이\.?",
    r"에이\s*/\s*에스",
    r"피엘씨",
    r"가부시키\s*가이샤",
    r"가부시끼\s*가이샤",
    r"카부시키\s*가이샤",
)
_HANGUL_TAIL = re.compile(r"[\s,.(]+(?:" + "|".join(_HANGUL_FORMS) + r")[\s.,)]*$")
_HANGUL_HEAD = re.compile(r"^\s*(?:가부시키|가부시끼|카부시키)\s*가이샤\s+")
# Japanese company forms written in Latin letters, at either end.
_ROMAJI = re.compile(r"^\s*kabushiki\s+kaisha\b|\bkabushiki\s+kaisha\s*$", re.I)
_PUNCT = re.compile(r"[^\w]+|_+")
# A space beside a Hangul syllable or jamo, or a CJK ideograph or kana, goes: Korean and
# Japanese names are written with and without spaces between their words.
_WIDE = r"[\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff]"
_SPACE_BY_WIDE = re.compile(rf"(?<={_WIDE}) | (?={_WIDE})")


def name_key(name: str, kind: str = "company") -> str:
    """The matching key of a name: the same for the spellings of one name (see the module's
    docstring); "" for a name that is only punctuation.  A name that is nothing but a legal
    form keeps it (``주식회사`` alone stays a name).  ``kind`` "person" (inventors) leaves
    legal forms alone: a romanised given name may end in "Se" or "Ag"."""
    text = unicodedata.normalize("NFKC", name).casefold().strip()
    if kind == "person":
        return _words(text)
    return _words(_without_forms(text)) or _words(text)


def display_name(name: str, kind: str = "company") -> str:
    """A name as written without its legal forms, for showing one name per party:
    ``Samsung Electronics Co., Ltd`` -> ``Samsung Electronics``, ``(주)삼성전자`` ->
    ``삼성전자``."""
    text = " ".join(unicodedata.normalize("NFKC", name).split())
    if kind == "person":
        return text
    shown = " ".join(_without_forms(text).split()).strip(" ,;.")
    return shown or text


def _without_forms(text: str) -> str:
    bare = _HANGUL_HEAD.sub(" ", _ROMAJI.sub(" ", _CJK_FORM.sub(" ", text)))
    while True:
        cut = _HANGUL_TAIL.sub("", _LATIN_TAIL.sub("", bare))
        if cut == bare:
            return bare
        bare = cut


def _words(text: str) -> str:
    spaced = " ".join(_PUNCT.sub(" ", text).split())
    return _SPACE_BY_WIDE.sub("", spaced)


# -- aliases -----------------------------------------------------------------------------------


class BadAliases(UserInputError):
    """An alias file that cannot be read as ``name,alias`` rows, or that maps one alias to
    two names."""


@dataclass(frozen=True)
class Aliases:
    """Names that differ beyond spelling, mapped to one: ``pairs`` are (name, alias) as the
    user wrote them; the name is how the party is shown."""

    pairs: tuple[tuple[str, str], ...] = ()
    source: str | None = None  # the file they were read from, for people
    # kind -> (alias key -> name key), kind -> (name key -> the name as written)
    _canonical: dict[str, dict[str, str]] = field(default_factory=dict, compare=False, repr=False)
    _display: dict[str, dict[str, str]] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        for kind in NAME_KINDS:
            canonical = self._canonical.setdefault(kind, {})
            display = self._display.setdefault(kind, {})
            for name, alias in self.pairs:
                target = name_key(name, kind)
                display.setdefault(target, name.strip())
                key = name_key(alias, kind)
                if key and key != target:
                    canonical[key] = target
            # An alias may name another alias's name: follow the chain (no cycles: see read).
            for key in list(canonical):
                seen = {key}
                target = canonical[key]
                while target in canonical and target not in seen:
                    seen.add(target)
                    target = canonical[target]
                canonical[key] = target

    def key(self, name: str, kind: str = "company") -> str:
        """The one key of ``name``: its matching key, through the table."""
        own = name_key(name, kind)
        return self._canonical.get(kind, {}).get(own, own)

    def display(self, key: str, kind: str = "company") -> str | None:
        """The name the table shows for a key, if the table names it."""
        return self._display.get(kind, {}).get(key)

    def to_list(self) -> list[list[str]]:
        return [[n, a] for n, a in self.pairs]

    @classmethod
    def from_list(cls, rows: Any, source: str | None = None) -> Aliases:
        pairs = tuple(
            (str(r[0]), str(r[1]))
            for r in rows or ()
            if isinstance(r, (list, tuple)) and len(r) == 2
        )
        return cls(pairs, source)

    @classmethod
    def read(cls, path: str | Path) -> Aliases:
        """A CSV file of ``name,alias`` rows (a header row ``name,alias`` is skipped, ``#``
        starts a comment line; UTF-8, with or without a BOM, as Excel writes it)."""
        file = Path(path)
        try:
            text = file.read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise BadAliases(f"cannot read the alias file {file} ({exc.strerror})") from exc
        except UnicodeDecodeError as exc:
            raise BadAliases(
                f"the alias file {file} is not UTF-8 text", "save it as CSV UTF-8"
            ) from exc
        return cls.parse(text, str(file))

    @classmethod
    def parse(cls, text: str, source: str = "aliases") -> Aliases:
        pairs: list[tuple[str, str]] = []
        targets: dict[str, tuple[str, int, str]] = {}  # alias key -> name key, line, name
        for line_no, row in enumerate(csv.reader(io.StringIO(text)), start=1):
            cells = [c.strip() for c in row]
            if not any(cells) or cells[0].startswith("#"):
                continue
            if line_no == 1 and [c.casefold() for c in cells[:2]] == ["name", "alias"]:
                continue
            filled = [c for c in cells if c]
            if len(filled) != 2 or not (cells[0] and cells[1]):
                raise BadAliases(
                    f"{source}, line {line_no}: {len(filled)} names where two belong "
                    "(the name to show, then one alias)",
                    'write one alias per line: 삼성전자,"Samsung Electronics Co., Ltd." '
                    "(quote a name holding a comma)",
                )
            name, alias = cells[0], cells[1]
            key = name_key(alias)
            earlier = targets.get(key)
            if earlier and earlier[0] != name_key(name):
                raise BadAliases(
                    f"{source}, line {line_no}: {alias!r} is already an alias of "
                    f"{earlier[2]!r} (line {earlier[1]})",
                    "give each alias one name",
                )
            targets[key] = (name_key(name), line_no, name)
            pairs.append((name, alias))
        _check_cycles(pairs, source)
        return cls(tuple(pairs), source)


def _check_cycles(pairs: Sequence[tuple[str, str]], source: str) -> None:
    edges = {name_key(a): name_key(n) for n, a in pairs if name_key(a) != name_key(n)}
    for start in edges:
        seen = [start]
        node = edges[start]
        while node in edges:
            if node in seen:
                raise BadAliases(
                    f"{source}: the aliases go round in a circle ({' -> '.join([*seen, node])})",
                    "make one of those names the name to show, and the others its aliases",
                )
            seen.append(node)
            node = edges[node]


# -- applying them ----------------------------------------------------------------------------


def keys_of(value: Any, aliases: Aliases, kind: str = "company") -> list[str]:
    """The keys of a name field's value (a name or a list of names), each once, in order."""
    items = value if isinstance(value, list) else [value]
    keys = [aliases.key(v, kind) for v in items if isinstance(v, str) and v.strip()]
    return list(dict.fromkeys(k for k in keys if k))


def annotate(payload: dict[str, Any], fields: Mapping[str, str], aliases: Aliases) -> None:
    """Set each name field's keys (``_name_F``) in a payload, or drop them where it has none.
    ``fields``: field -> kind.  A scalar name keeps a scalar key, a list of names a list of
    keys."""
    for name, kind in fields.items():
        value = payload.get(name)
        keys = keys_of(value, aliases, kind)
        if not keys:
            payload.pop(names_field(name), None)
        elif isinstance(value, list):
            payload[names_field(name)] = keys
        else:
            payload[names_field(name)] = keys[0]


@dataclass(frozen=True)
class NameSpec:
    """What a collection does with names: its name fields and their alias table."""

    fields: dict[str, str] = field(default_factory=dict)  # field -> company | person
    aliases: Aliases = field(default_factory=Aliases)
    version: int = NAME_KEY_VERSION

    @classmethod
    def from_manifest(cls, manifest: Manifest | None) -> NameSpec:
        spec = manifest.names if manifest is not None else {}
        fields = spec.get("fields") or {}
        return cls(
            {str(f): str(k) for f, k in fields.items()} if isinstance(fields, dict) else {},
            Aliases.from_list(spec.get("aliases"), spec.get("aliases_source")),
            int(spec.get("version") or NAME_KEY_VERSION),
        )

    def key(self, field_name: str, name: str) -> str:
        return self.aliases.key(name, self.fields.get(field_name, "company"))

    def to_manifest(self) -> dict[str, Any]:
        return {
            "fields": dict(self.fields),
            "prefix": NAMES_PREFIX,
            "version": self.version,
            "aliases": self.aliases.to_list(),
            "aliases_source": self.aliases.source,
        }


def with_name_fields(spec: NameSpec, found: Mapping[str, str]) -> NameSpec:
    """``spec`` with the name fields a load found added (a collection keeps the ones it has)."""
    return replace(spec, fields={**spec.fields, **found})
