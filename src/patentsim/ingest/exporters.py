"""Files exported by patent databases, known by their header.

A known exporter's file loads with no options: the key column, the order of
its slash dates and its list columns come from here; the text column is found
as for any file (a column named like an abstract, else the title).  What was
recognised is said in the summary; options given on the command line win.

- Google Patents (the "Download (CSV)" file): known by the columns id, title,
  assignee, inventor/author and result link (a ``search URL:`` line above them);
  key ``id``; slash dates are month/day (10/20/2008); inventors are
  ``, ``-separated.
- KIPRIS-style exports of Korean databases (Excel or CSV, rows of search
  information above the header): known by 출원번호 with 발명의명칭 (or 발명의 명칭);
  key 출원번호; codes ``|``-separated (found by the values).
- The tool's own output (``search ... --output x.xlsx`` or ``.csv``): known by its first
  columns rank, score, key, row; key ``key``; a column of short texts holding ``|`` is a
  list (the output joins list fields with it).
- PatentsView tables: patent_id or patent_number with patent_title,
  patent_abstract or patent_date; key patent_id, else patent_number.
- Lens CSV: known by ``Lens ID``, the key; applicants, inventors, owners,
  priority numbers, classifications, cited patents and family members
  ``;;``-separated.
- WIPS ON (Excel, one row per publication: an application's A and B1 rows repeat
  its 출원번호): known by its ``WIPS ON key`` column, unique per row, the key;
  applicants, inventors, codes, priority numbers and dates, family ``|``-separated.
- Espacenet's result list (CSV, ``;``, lines of search information above the
  header): known by Publication number with Earliest priority and Family number;
  key Publication number; inventors, applicants and codes one per line in a cell.

Each names its date columns too; a list column that is also a date column holds
lists of dates (a range filter matches a document when any of them is in range).

Families (``search like --collapse family``): the column that says which publications are
one invention, the first of a profile's ``family`` columns the file has: Lens ``Simple
Family Members``, WIPS ON ``패밀리 문헌번호``, Espacenet ``Family number``, else the priority
numbers (Lens ``Priority Numbers``, WIPS ON ``우선권 주장번호``, KIPRIS ``우선권주장번호``);
publications sharing a value are one family.  Google Patents' CSV names neither (its
families are found by text).  A file of no known exporter: a column named like a family or
priority number (``family_id``, ``패밀리``, ``priority numbers``; ``family_column``).
Lists of a known exporter are lists whatever share of their cells hold a
separator (13 joint applications of 600 are still lists).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ..columns import family_named


@dataclass(frozen=True)
class Exporter:
    name: str
    id_column: str | None = None
    date_order: str | None = None  # order of slash dates with the year last: MDY or DMY
    lists: dict[str, str] = field(default_factory=dict)  # column -> separator
    dates: frozenset[str] = frozenset()  # date columns (with lists: lists of dates)
    key_note: str | None = None  # why the key is that column, for the summary
    # A separator that makes a list of any column of short texts holding it (the tool's own
    # output joins list fields with it, whatever share of the cells hold several values).
    list_any: str | None = None
    # Columns naming a document's family (or priority numbers), best first.
    family: tuple[str, ...] = ()


def _norm(name: str) -> str:
    return " ".join(name.lower().split())


def _having(names: dict[str, str], wanted: Sequence[str]) -> list[str]:
    """The columns (as written) of the normalised names in ``wanted`` that the file has."""
    return [names[_norm(n)] for n in wanted if _norm(n) in names]


def detect_exporter(columns: Sequence[str]) -> Exporter | None:
    """The exporter whose header layout ``columns`` has, or None."""
    names = {_norm(c): c for c in columns}
    if [_norm(c) for c in columns[:4]] == ["rank", "score", "key", "row"]:
        return Exporter(
            "patentsim search results",
            id_column=columns[2],
            list_any="|",
            key_note="the documents' keys as the collection stored them",
        )
    google = {"id", "title", "assignee", "inventor/author", "result link"}
    if google <= set(names):
        return Exporter(
            "Google Patents CSV",
            id_column=names["id"],
            date_order="MDY",
            lists={names["inventor/author"]: ", "},
            dates=frozenset(
                _having(
                    names,
                    ("priority date", "filing/creation date", "publication date", "grant date"),
                )
            ),
        )
    if "wips on key" in names:
        lists: tuple[str, ...] = (
            "출원인",
            "발명자",
            "ipc",
            "cpc",
            "우선권 주장번호",
            "우선권 주장일",
            "패밀리 문헌번호",
            "인용문헌",
            "피인용문헌",
        )
        dates: tuple[str, ...] = ("출원일", "공개일", "등록일", "공고일", "우선권 주장일")
        return Exporter(
            "WIPS ON export",
            id_column=names["wips on key"],
            key_note="unique per row; 출원번호 repeats on an application's A and B1 rows"
            if "출원번호" in names
            else None,
            lists={c: "|" for c in _having(names, lists)},
            dates=frozenset(_having(names, dates)),
            family=tuple(_having(names, ("패밀리 문헌번호", "우선권 주장번호"))),
        )
    if "출원번호" in names and ({"발명의명칭", "발명의 명칭"} & set(names)):
        lists = ("출원인", "발명자", "ipc분류", "cpc분류", "ipc", "cpc", "우선권주장번호")
        dates = ("출원일자", "공개일자", "등록일자", "출원일", "공개일", "등록일")
        return Exporter(
            "KIPRIS-style export",
            id_column=names["출원번호"],
            lists={c: "|" for c in _having(names, lists)},
            dates=frozenset(_having(names, dates)),
            family=tuple(
                _having(names, ("패밀리번호", "패밀리 번호", "우선권주장번호", "우선권 주장번호"))
            ),
        )
    if "lens id" in names:
        lens_lists = (
            "applicants",
            "inventors",
            "owners",
            "priority numbers",
            "cpc classifications",
            "ipcr classifications",
            "us classifications",
            "cited patents",
            "simple family members",
            "simple family member jurisdictions",
            "extended family members",
            "extended family member jurisdictions",
            "npl resolved lens id(s)",
            "npl resolved external id(s)",
        )
        return Exporter(
            "Lens CSV",
            id_column=names["lens id"],
            lists={c: ";;" for c in _having(names, lens_lists)},
            dates=frozenset(
                _having(names, ("publication date", "application date", "earliest priority date"))
            ),
            family=tuple(
                _having(
                    names, ("simple family members", "extended family members", "priority numbers")
                )
            ),
        )
    espacenet = {"publication number", "earliest priority", "family number"}
    if espacenet <= set(names):
        return Exporter(
            "Espacenet result list",
            id_column=names["publication number"],
            lists={c: "\n" for c in _having(names, ("inventors", "applicants", "ipc", "cpc"))},
            dates=frozenset(
                _having(names, ("earliest priority", "publication date", "earliest publication"))
            ),
            family=tuple(_having(names, ("family number",))),
        )
    key = next((names[k] for k in ("patent_id", "patent_number") if k in names), None)
    if key and {"patent_title", "patent_abstract", "patent_date"} & set(names):
        return Exporter("PatentsView table", id_column=key)
    return None


def family_column(columns: Sequence[str], exporter: Exporter | None) -> str | None:
    """The column that names each document's family: the exporter's, else one named so."""
    if exporter is not None and exporter.family:
        return exporter.family[0]
    return family_named(columns)
