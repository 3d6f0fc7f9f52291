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
- PatentsView tables: patent_id or patent_number with patent_title,
  patent_abstract or patent_date; key patent_id, else patent_number.
- Lens CSV: known by ``Lens ID``, the key; applicants, inventors, owners,
  priority numbers and classifications ``;;``-separated.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Exporter:
    name: str
    id_column: str | None = None
    date_order: str | None = None  # order of slash dates with the year last: MDY or DMY
    lists: dict[str, str] = field(default_factory=dict)  # column -> separator


def _norm(name: str) -> str:
    return " ".join(name.lower().split())


def detect_exporter(columns: Sequence[str]) -> Exporter | None:
    """The exporter whose header layout ``columns`` has, or None."""
    names = {_norm(c): c for c in columns}
    google = {"id", "title", "assignee", "inventor/author", "result link"}
    if google <= set(names):
        return Exporter(
            "Google Patents CSV",
            id_column=names["id"],
            date_order="MDY",
            lists={names["inventor/author"]: ", "},
        )
    if "출원번호" in names and ({"발명의명칭", "발명의 명칭"} & set(names)):
        return Exporter("KIPRIS-style export", id_column=names["출원번호"])
    if "lens id" in names:
        lens_lists = (
            "applicants",
            "inventors",
            "owners",
            "priority numbers",
            "cpc classifications",
            "ipcr classifications",
            "us classifications",
        )
        return Exporter(
            "Lens CSV",
            id_column=names["lens id"],
            lists={names[n]: ";;" for n in lens_lists if n in names},
        )
    key = next((names[k] for k in ("patent_id", "patent_number") if k in names), None)
    if key and {"patent_title", "patent_abstract", "patent_date"} & set(names):
        return Exporter("PatentsView table", id_column=key)
    return None
