"""Columns known by their names: the one home of the rules that read a column's role from its
header alone.

Which column is a document's text (an abstract), its title, an identifier (a key or an
application/publication number), its parties (applicants, inventors), its classes (IPC/CPC),
a date, the date a prior-art search compares, the family.  ``ROLES`` is the table (a role,
its names best first, the words or pattern a name may hold instead); each question callers
ask is one function below.  Names are compared ``normalized`` (case, spaces and punctuation
aside: ``Publication Number`` is ``publication_number``), Korean and English alike.

The header layouts of named exporters (WIPS ON, Espacenet, Lens, Google Patents, KIPRIS)
are the exporters' own profiles in ``ingest.exporters``: they recognise a file, not a role.
The values of a column (dates, codes, separators) are weighed elsewhere (``ingest.types``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

# A value that reads as an IPC/CPC code: section, class, subclass (A61K, G06F, Y02E).
CLASSIFICATION = re.compile(r"^[A-HY]\d\d[A-Z]")


@dataclass(frozen=True)
class NameRule:
    """How a role's column is named: exact ``names`` (``normalized``, best first), else a
    name holding one of ``words`` (a ``_``-separated word of the normalized name) or one of
    ``fragments`` (anywhere in the name), else a match of ``pattern``."""

    role: str
    names: tuple[str, ...] = ()
    words: tuple[str, ...] = ()
    fragments: tuple[str, ...] = ()
    pattern: re.Pattern[str] | None = None


ROLES: dict[str, NameRule] = {
    # The text that is embedded: an abstract (an abstract-named column with no text gives way
    # to the title).
    "text": NameRule(
        "text",
        names=("abstract", "요약", "요약문", "초록", "summary", "description", "text", "content"),
        words=("abstract",),
    ),
    # What names a document in lists.
    "title": NameRule(
        "title",
        names=(
            "title",
            "발명의명칭",
            "발명의_명칭",
            "명칭",
            "제목",
            "invention_title",
            "patent_title",
            "name",
        ),
        fragments=("title", "명칭"),
    ),
    # Identifiers: kept as text exactly as written (0490308 stays 0490308).  A name whose last
    # word is one of ``names``, a number word beside a numbered thing, or a Korean number.
    "identifier": NameRule(
        "identifier",
        names=("id", "key", "uuid"),
        pattern=re.compile(
            r"(출원|등록|공개|공고|우선권|우선권\s*주장|특허|문헌|공보|패밀리)\s*번호|키$"
        ),
    ),
    # Applicants, assignees, owners (company) and inventors (person): one name per party.
    "party": NameRule(
        "party",
        names=(
            "applicant",
            "applicants",
            "assignee",
            "assignees",
            "owner",
            "owners",
            "inventor",
            "inventors",
            "patentee",
            "patentees",
            "proprietor",
            "proprietors",
            "company",
            "companies",
        ),
        fragments=("출원인", "발명자", "권리자", "특허권자", "양수인", "양도인", "출원회사"),
    ),
    # The party a result table, the overview and cluster reports show: these names first.
    "owner": NameRule(
        "owner",
        names=("applicant", "applicants", "assignee", "assignees", "출원인", "owner", "company"),
    ),
    # IPC/CPC codes: the label of search quality, the map's colour, suggestions.
    "classes": NameRule(
        "classes",
        names=("ipc", "cpc", "ipc_codes", "cpc_codes", "classification", "국제특허분류", "분류"),
        fragments=("ipc", "cpc"),
    ),
    # Columns read as lists of codes (split on a separator) by their name.
    "codes": NameRule(
        "codes",
        pattern=re.compile(
            r"(^|_)(ipc|cpc|ipcr|fi|f_term|classification|classifications|codes?)($|_)|분류", re.I
        ),
    ),
    "date": NameRule("date", pattern=re.compile(r"date|(^|_)dt$|day|일자|날짜|일$", re.I)),
    # The date a prior-art search compares: the filing (application) date, else the priority
    # date (a filing-named column wins over an exact priority_date).
    "filing_date": NameRule(
        "filing_date",
        names=("application_date", "filing_date", "출원일자", "출원일"),
        fragments=("filing", "application", "출원"),
    ),
    "priority_date": NameRule("priority_date", names=("priority_date",)),
    # A document's family (publications of one invention), then its priority numbers.
    "family": NameRule(
        "family",
        names=(
            "family_id",
            "family_number",
            "family",
            "docdb_family_id",
            "inpadoc_family_id",
            "simple_family_id",
            "simple_family_members",
            "패밀리",
            "패밀리번호",
            "패밀리_번호",
            "패밀리_문헌번호",
            "priority_numbers",
            "priority_number",
            "priority_application_numbers",
            "우선권주장번호",
            "우선권_주장번호",
            "우선권번호",
        ),
    ),
}

# Words of a party column that make it hold something else than names: its country, address,
# code, count, type, ...
_NOT_NAMES = frozenset(
    {
        "country",
        "countries",
        "nationality",
        "address",
        "addresses",
        "city",
        "state",
        "code",
        "codes",
        "id",
        "ids",
        "number",
        "no",
        "count",
        "type",
        "kind",
        "date",
        "sequence",
        "seq",
    }
)
_NOT_NAMES_KOREAN = ("국적", "국가", "주소", "코드", "번호", "수", "일자", "구분")
# An identifier in English: a number word beside a numbered thing (application number, pub no).
_NUMBER_WORDS = frozenset({"number", "numbers", "no", "num", "nr", "nos"})
_NUMBERED = frozenset(
    {
        "application",
        "app",
        "publication",
        "pub",
        "registration",
        "reg",
        "patent",
        "grant",
        "priority",
        "family",
        "document",
        "doc",
        "serial",
        "docdb",
        "kind",
        "lens",
        "wips",
    }
)


def normalized(name: str) -> str:
    """A column name for matching known names: lower case, runs of other characters as '_'."""
    return re.sub(r"[^0-9a-z가-힣]+", "_", name.lower()).strip("_")


def _words(name: str) -> list[str]:
    return [w for w in normalized(name).split("_") if w]


def named(
    columns: Iterable[str],
    role: str,
    *,
    loose: bool = True,
    usable: Callable[[str], bool] | None = None,
) -> str | None:
    """The first of ``columns`` named like ``role``: an exact name (best first), else, where
    ``loose``, one holding the role's words or fragments; ``usable`` (a column's values) must
    hold too."""
    rule = ROLES[role]
    columns = [c for c in columns if usable is None or usable(c)]
    for wanted in rule.names:
        for c in columns:
            if normalized(c) == wanted:
                return c
    if not loose:
        return None
    for c in columns:
        if set(rule.words) & set(_words(c)) or any(f in c.lower() for f in rule.fragments):
            return c
    return None


def text_column(columns: Sequence[str], usable: Callable[[str], bool]) -> str | None:
    """The column of the text to embed: named like an abstract, holding text."""
    return named(columns, "text", usable=usable)


def title_column(columns: Iterable[str], usable: Callable[[str], bool] | None = None) -> str | None:
    """The column naming a document: a known title name, else one holding title or 명칭."""
    return named(columns, "title", usable=usable)


def text_names(n: int | None = None) -> tuple[str, ...]:
    """Names of a text column, for messages."""
    return ROLES["text"].names[:n]


def is_identifier_name(column: str) -> bool:
    """A column named like an identifier: a key or id, or a number of an application,
    publication, registration, patent, priority, family (출원번호, 등록번호, 공개번호 ...)."""
    rule = ROLES["identifier"]
    if rule.pattern is not None and rule.pattern.search(column.strip()):
        return True
    words = [w for w in re.split(r"[^0-9a-z]+", column.lower()) if w]
    if not words:
        return False
    if words[-1] in rule.names:
        return True
    return any(w in _NUMBER_WORDS for w in words) and any(w in _NUMBERED for w in words)


def is_date_name(column: str) -> bool:
    """A column named like a date (filing_date, grant_dt, 출원일, 공개일자)."""
    pattern = ROLES["date"].pattern
    return bool(pattern and pattern.search(column))


def is_codes_name(column: str) -> bool:
    """A column named like a list of codes (ipc, cpc_codes, F-term, IPC분류)."""
    pattern = ROLES["codes"].pattern
    return bool(pattern and pattern.search(normalized(column)))


def name_kind(column: str) -> str | None:
    """``company`` for a column named like the names of applicants, assignees or owners
    (``applicant``, ``Applicants``, ``current assignee``, ``출원인``, ...), ``person`` for
    inventors (``inventor/author``, ``발명자``), None for any other column, and for a
    party's country, address, code or count (``applicant_country``, ``출원인 국적``)."""
    rule = ROLES["party"]
    words = normalized(column).split("_")
    compact = re.sub(r"\s+", "", column)
    if any(w in _NOT_NAMES for w in words):
        return None
    if any(w in rule.names for w in words):
        return "person" if {"inventor", "inventors"} & set(words) else "company"
    if not any(p in compact for p in rule.fragments):
        return None
    rest = compact
    for party in rule.fragments:
        rest = rest.replace(party, "")
    if any(k in rest for k in _NOT_NAMES_KOREAN):
        return None
    return "person" if "발명자" in compact else "company"


def owner_column(columns: Iterable[str]) -> str | None:
    """The party a table, the overview and cluster reports show: a known applicant or
    assignee name, best first."""
    return named(columns, "owner", loose=False)


def is_classes_name(column: str) -> bool:
    """A name that says IPC or CPC."""
    return any(f in column.lower() for f in ROLES["classes"].fragments)


def classes_column(columns: Iterable[str]) -> str | None:
    """The column of IPC/CPC codes by name: a known name, else one holding ipc or cpc."""
    return named(columns, "classes")


def filing_date_column(columns: Sequence[str]) -> str | None:
    """The date a prior-art search compares: a filing or application date, else a priority
    date, else the first of ``columns`` (date fields)."""
    return (
        named(columns, "filing_date")
        or named(columns, "priority_date", loose=False)
        or (columns[0] if columns else None)
    )


def family_named(columns: Iterable[str]) -> str | None:
    """A column named like a family (or priority numbers), best first."""
    return named(columns, "family", loose=False)
