"""Write the test suite's own sample files, in the shapes of the real exports.

Synthetic rows, made up here (deterministic: fixed seeds), so that a fresh clone tests itself
without ``../shared/data``::

    python tests/data/make_samples.py        # rewrites the three files beside this script

- ``sample_ko.xlsx``: 300 rows shaped like a KIPRIS export, the Korean tutorial's file:
  application_number, title, abstract, applicant, application_date (yyyymmdd *integer*), ipc
  (``|``-separated list), opening_date and registration_date (integers with gaps), status
  (등록, 공개, 거절, 소멸, 포기, 취하), country.  Korean texts from the ten topics of
  ``examples/make_example.py``; a few abstracts repeat under other numbers, as in real
  exports.  Row 0 (written by hand) is a grinding-measurement patent whose title starts with
  "연삭 장치", filed 2023-01-10, with four IPC codes and no registration date.
- ``sample_en.xlsx``: 60 rows shaped like a company's US grants: doc_id, title, abstract,
  assignee, grant_date (ISO string), cpc (``|``-separated CPC groups).
- ``sample_en.csv``: 40 rows shaped like a mixed English export (UTF-8, quoted cells):
  doc_id, country, kind, title, abstract, assignee, filing_date, publication_date,
  grant_date, cpc, ipc, source, topic; rows 3, 11, 12, 25 and 38 have an empty abstract,
  grant_date is empty for applications.
"""

# ruff: noqa: E501  (phrase tables)

from __future__ import annotations

import csv
import datetime as dt
import importlib.util
import io
import random
import re
import sys
import zipfile
from pathlib import Path

from openpyxl import Workbook

HERE = Path(__file__).resolve().parent
STAMP = dt.datetime(2026, 12, 1)

# -- Korean: the topics and sentence machinery of the README's example file ------------------


def _example_module():
    path = HERE.parent.parent / "examples" / "make_example.py"
    spec = importlib.util.spec_from_file_location("make_example", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


KO_COLUMNS = (
    "application_number",
    "title",
    "abstract",
    "applicant",
    "application_date",
    "ipc",
    "opening_date",
    "registration_date",
    "status",
    "country",
)
KO_ROWS = 300
KO_ROW0 = (
    "1020230004711",
    "연삭 장치의 연삭량 측정 시스템 및 그 측정 방법",
    "본 발명은 연삭 장치에서 가공물의 연삭량을 실시간으로 측정하는 시스템에 관한 것으로서, "
    "연삭 휠의 위치를 검출하는 변위 센서, 가공물의 두께를 측정하는 측정 프로브 및 측정값으로부터 "
    "연삭량을 산출하는 제어부를 포함한다. 상기 제어부는 목표 연삭량에 도달하면 이송을 정지시켜 "
    "과연삭을 방지한다.",
    "주식회사 한빛정밀",
    20230110,
    "B24B 49/12|B24B 7/22|G01B 11/06|B23Q 17/20",
    20240717,
    None,
    "공개",
    "KR",
)
STATUS = (("등록", 60), ("공개", 10), ("거절", 11), ("소멸", 12), ("포기", 4), ("취하", 3))
DUPLICATE_OF = {262 + i: 30 + 7 * i for i in range(8)}  # row -> an earlier row it repeats


def ko_rows(seed: int = 14) -> list[tuple]:
    ex = _example_module()
    rng = random.Random(seed)
    names = list(ex.TOPICS)
    rows: list[tuple] = [KO_ROW0]
    used = {KO_ROW0[0]}
    for i in range(1, KO_ROWS):
        topic = ex.TOPICS[rng.choice(names)]
        status = rng.choices(*zip(*STATUS))[0]
        filed, opened, registered = ex.make_dates(
            rng, {"소멸": "등록", "포기": "거절"}.get(status, status)
        )
        while True:
            number = f"10{filed.year}{rng.randint(1, 199_999):07d}"
            if number not in used:
                used.add(number)
                break
        applicant = rng.choices(*zip(*topic["applicants"]))[0]
        title, abstract = ex.make_text(rng, topic)
        if i in DUPLICATE_OF:
            title, abstract = rows[DUPLICATE_OF[i]][1], rows[DUPLICATE_OF[i]][2]
        rows.append(
            (number, title, abstract, applicant, ex.ymd(filed), ex.make_ipc(rng, topic),
             opened, registered, status, "KR")
        )  # fmt: skip
    return rows


# -- English ----------------------------------------------------------------------------------

EN_TOPICS: dict[str, dict] = {
    "memory": {
        "cpc": ["G06F12/0811", "G06F12/0875", "G06F12/1009", "G06F13/1668"],
        "titles": [
            "Cache coherence for a {x}",
            "Memory access scheduling in a {x}",
            "Virtual address translation for a {x}",
        ],
        "things": ["multi-core processor", "graphics processing unit", "parallel processor"],
        "sentences": [
            "A memory controller receives requests from a plurality of processing cores and orders them by bank.",
            "A cache line is marked shared when a second core reads it and invalidated on a write.",
            "A translation lookaside buffer caches page table entries for the threads of a warp.",
            "Requests that miss in the last-level cache are merged before they reach the memory.",
        ],
    },
    "ray_tracing": {
        "cpc": ["G06T15/06", "G06T15/005", "G06T17/005", "G06T1/20"],
        "titles": [
            "Ray traversal of a bounding volume hierarchy on a {x}",
            "Accelerated ray intersection testing in a {x}",
        ],
        "things": ["graphics processing unit", "rendering pipeline", "hardware accelerator"],
        "sentences": [
            "A traversal unit tests rays against the boxes of a bounding volume hierarchy in hardware.",
            "Triangles that a ray intersects are reported to a shader with the hit distance.",
            "Rays of similar direction are grouped so that their traversal shares memory fetches.",
            "The hierarchy is compressed so that more nodes fit in the cache of the processor.",
        ],
    },
    "inference": {
        "cpc": ["G06N3/063", "G06N3/045", "G06N3/08", "G06F7/5443"],
        "titles": [
            "Neural network inference with reduced precision on a {x}",
            "Sparse matrix multiplication for neural networks on a {x}",
        ],
        "things": ["tensor core", "deep learning accelerator", "graphics processing unit"],
        "sentences": [
            "Weights of a trained neural network are quantized to eight-bit integers before inference.",
            "A matrix multiply-accumulate unit skips products whose operands are zero.",
            "Activations are kept in on-chip memory between the layers of the network.",
            "A scale factor per channel keeps the accuracy of the quantized network close to the original.",
        ],
    },
    "video": {
        "cpc": ["H04N19/176", "H04N19/52", "H04N19/436", "H04N19/70"],
        "titles": [
            "Motion estimation for video encoding on a {x}",
            "Parallel entropy coding of video in a {x}",
        ],
        "things": ["hardware encoder", "streaming server", "graphics processing unit"],
        "sentences": [
            "Motion vectors of neighbouring blocks predict the motion of the current block.",
            "Frames are split into tiles that independent encoder engines compress in parallel.",
            "The bit rate of the stream adapts to the bandwidth measured at the client.",
            "Blocks with little residual energy are coded in a skip mode to save bits.",
        ],
    },
    "power": {
        "cpc": ["G06F1/3206", "G06F1/324", "G06F1/3296", "G06F1/206"],
        "titles": ["Dynamic voltage and frequency scaling of a {x}", "Power capping for a {x}"],
        "things": ["processor cluster", "data center server", "graphics processing unit"],
        "sentences": [
            "The clock frequency is lowered when the measured temperature exceeds a threshold.",
            "A power budget is shared among the chips of a board according to their load.",
            "Idle units are power gated until work is scheduled on them again.",
            "The supply voltage follows the frequency so that the chip runs at its most efficient point.",
        ],
    },
}
EN_ASSIGNEES = [
    "NVIDIA CORPORATION",
    "NVIDIA CORPORATION",
    "NVIDIA CORPORATION",
    "Mellanox Technologies, Ltd.",
]


def _en_text(rng: random.Random, topic: dict) -> tuple[str, str]:
    title = rng.choice(topic["titles"]).format(x=rng.choice(topic["things"]))
    sentences = rng.sample(topic["sentences"], rng.randint(2, 4))
    return title, " ".join(sentences)


def _cpc(rng: random.Random, topic: dict) -> str:
    codes = rng.sample(topic["cpc"], rng.randint(1, 3))
    return "|".join(codes)


def en_xlsx_rows(seed: int = 5157) -> list[tuple]:
    rng = random.Random(seed)
    names = list(EN_TOPICS)
    rows = []
    number = 10_001_996
    day = dt.date(2018, 6, 19)
    for i in range(60):
        topic = EN_TOPICS[names[i % len(names)] if i < 10 else rng.choice(names)]
        title, abstract = _en_text(rng, topic)
        number += rng.randint(20, 4000)
        day += dt.timedelta(days=7 * rng.randint(0, 6))
        rows.append(
            (
                f"US{number}",
                title,
                abstract,
                rng.choice(EN_ASSIGNEES),
                day.isoformat(),
                _cpc(rng, topic),
            )
        )
    return rows


EN_CSV_COLUMNS = (
    "doc_id", "country", "kind", "title", "abstract", "assignee", "filing_date",
    "publication_date", "grant_date", "cpc", "ipc", "source", "topic",
)  # fmt: skip
EN_CSV_EMPTY = (3, 11, 12, 25, 38)


def en_csv_rows(seed: int = 22409) -> list[tuple]:
    rng = random.Random(seed)
    names = list(EN_TOPICS)
    rows = []
    for i in range(40):
        name = rng.choice(names)
        topic = EN_TOPICS[name]
        title, abstract = _en_text(rng, topic)
        country, kind = rng.choice(
            [("US", "B2"), ("US", "A1"), ("EP", "A1"), ("WO", "A1"), ("CA", "A1")]
        )
        filed = dt.date(2012, 1, 1) + dt.timedelta(days=rng.randint(0, 3650))
        published = filed + dt.timedelta(days=rng.randint(400, 600))
        granted = published + dt.timedelta(days=rng.randint(200, 900)) if kind == "B2" else None
        cpc = _cpc(rng, topic) if rng.random() < 0.7 else ""
        ipc = "|".join(sorted({c.split("/")[0] + "/00" for c in topic["cpc"][:2]}))
        rows.append((
            f"{country}{rng.randint(2_000_000, 11_999_999)}", country, kind, title,
            "" if i in EN_CSV_EMPTY else abstract, rng.choice(EN_ASSIGNEES), filed.isoformat(),
            published.isoformat(), granted.isoformat() if granted else "", cpc, ipc,
            "patentsim tests/data (synthetic)", name.replace("_", " "),
        ))  # fmt: skip
    return rows


# -- writing ----------------------------------------------------------------------------------


def write_xlsx(path: Path, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """An xlsx whose bytes depend on the rows only (openpyxl's timestamps pinned)."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    ws.append(columns)
    for row in rows:
        ws.append(row)
    wb.properties.creator = "patentsim tests/data/make_samples.py"
    wb.properties.created = STAMP
    buf = io.BytesIO()
    wb.save(buf)
    stamp = STAMP.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    with zipfile.ZipFile(buf) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>" + stamp, data)
            info = zipfile.ZipInfo(item.filename, date_time=STAMP.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(info, data)


def write_csv(path: Path, columns: tuple[str, ...], rows: list[tuple]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)


def main(argv: list[str]) -> None:
    out = Path(argv[1]) if len(argv) > 1 else HERE
    write_xlsx(out / "sample_ko.xlsx", KO_COLUMNS, ko_rows())
    write_xlsx(
        out / "sample_en.xlsx",
        ("doc_id", "title", "abstract", "assignee", "grant_date", "cpc"),
        en_xlsx_rows(),
    )
    write_csv(out / "sample_en.csv", EN_CSV_COLUMNS, en_csv_rows())
    for name in ("sample_ko.xlsx", "sample_en.xlsx", "sample_en.csv"):
        print(f"wrote {out / name} ({(out / name).stat().st_size / 1024:.0f} KB)")


if __name__ == "__main__":
    main(sys.argv)
