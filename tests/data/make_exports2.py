"""Writes the fixtures of tests/test_files_round2.py: exports in the layouts of issue 25.

Run from the repository root: ``python tests/data/make_exports2.py`` (needs openpyxl and
xlwt).  The files it writes are committed; the rows are made up for these tests (own text)
in the layouts of the real exports:

- ``espacenet.csv``: Espacenet's result list: 7 lines of search information above the
  header (one holding a quoted query with ``;`` in it), ``;`` between cells, Latin-1 text
  with a few UTF-8 sequences, lists with a line break inside the quoted cell;
- ``european.csv``: a Google Patents CSV re-saved by Excel in a European locale: ``;``,
  dates DD/MM/YYYY, a column of decimal commas, cp1252;
- ``wipson.xlsx`` and ``wipson.xls``: WIPS ON exports, one row per publication (an
  application's A and B1 rows repeat its 출원번호), joint applicants ``a | b``, priority
  dates ``d1 | d2`` in a few cells, registration numbers with a leading zero;
- ``lens_family.csv``: an older Lens export with family members ``;;``-separated.
"""

# ruff: noqa: E501, RUF005  (row tables)

from __future__ import annotations

import csv
import io
from pathlib import Path

HERE = Path(__file__).resolve().parent

ESPACENET_ABOVE = [
    "Espacenet;;",
    '"Search results";',
    '"Query: ""ta=(battery and cooling); pd within 2018,2023""";',
    "Results;6",
    "Exported;2024-03-12",
    "Database;Worldwide",
    "",
]
ESPACENET_HEADER = [
    "No",
    "Title",
    "Inventors",
    "Applicants",
    "Publication number",
    "Earliest priority",
    "IPC",
    "CPC",
    "Publication date",
    "Earliest publication",
    "Family number",
]
ESPACENET_ROWS = [
    (
        "Battery module with cooling plate between the cells",
        ["MÜLLER ANNA [DE]", "RENÉ DUPONT [FR]"],
        ["VOLTA GMBH [DE]"],
        "EP3456789A1",
        "2018-01-15",
        ["H01M10/613", "H01M10/6556"],
        ["H01M10/613", "Y02E60/10"],
        "2019-07-24",
        "2019-07-24",
        "064500123",
    ),
    (
        "Thermal management system for an electric vehicle battery",
        ["KIM SEO-YEON [KR]"],
        ["HANBIT MOTORS CO [KR]", "HANBIT ENERGY CO [KR]"],
        "US2020123456A1",
        "2019-05-20",
        ["B60L58/26"],
        ["B60L58/26", "H01M10/625"],
        "2020-04-23",
        "2020-04-23",
        "070123456",
    ),
    (
        "Phase change material pack for fast charging",
        ["ZOË WEBER [DE]", "LEA SCHMIDT [DE]"],
        ["VOLTA GMBH [DE]"],
        "DE102018222459A1",
        "2018-12-20",
        ["H01M10/659"],
        ["H01M10/659", "H01M10/613"],
        "2020-06-25",
        "2020-06-25",
        "071234567",
    ),
    (
        "Liquid cooled busbar for battery packs",
        ["ZHANG WEI [CN]"],
        ["DONGFANG POWER CO LTD [CN]"],
        "CN111234567A",
        "2020-01-07",
        ["H01M50/502", "H01M10/6567"],
        ["H01M50/502"],
        "2020-05-08",
        "2020-05-08",
        "072000001",
    ),
    (
        "Sensor holder for measuring cell temperature",
        ["PARK ADA [KR]", "ROMERO LOUIS [US]"],
        ["NORTHWIND CELLS INC [US]"],
        "WO2021001234A1",
        "2019-07-01",
        ["H01M10/48", "G01K1/14"],
        ["H01M10/486"],
        "2021-01-07",
        "2021-01-07",
        "073111222",
    ),
    (
        "Coolant pump control for a battery chiller",
        ["FRANÇOIS PETIT [FR]"],
        ["VOLTA GMBH [DE]", "NORTHWIND CELLS INC [US]"],
        "EP3777777A1",
        "2019-02-11",
        ["B60H1/00", "H01M10/613"],
        ["B60H1/00278"],
        "2021-02-17",
        "2020-08-20",
        "074000999",
    ),
]


def _espacenet_bytes() -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    w.writerow(ESPACENET_HEADER)
    for i, r in enumerate(ESPACENET_ROWS, 1):
        title, inv, app, pub, prio, ipc, cpc, pdate, early, fam = r
        w.writerow(
            [i, title, "\n".join(inv), "\n".join(app), pub, prio, "\n".join(ipc)]
            + ["\n".join(cpc), pdate, early, fam]
        )
    body = "\r\n".join(ESPACENET_ABOVE) + "\r\n" + buf.getvalue()
    out = bytearray()
    # Latin-1, except the first row's inventors, written in UTF-8 (as Espacenet does at times).
    utf8_name = "MÜLLER ANNA [DE]"
    for part in body.split(utf8_name):
        if out:
            out += utf8_name.encode("utf-8")
        out += part.encode("latin-1")
    return bytes(out)


EUROPEAN_HEADER = [
    "id",
    "title",
    "assignee",
    "inventor/author",
    "priority date",
    "filing/creation date",
    "publication date",
    "grant date",
    "result link",
    "relevance",
]
EUROPEAN_ROWS = [
    ("US-7451234-B2", "Battery cooling plate", "Harbor Energy", "Ada Park, Louis Romero",
     "20/10/2008", "15/01/2009", "22/07/2010", "11/11/2008", "0,75"),
    ("US-9012345-B1", "Coolant pump for a battery chiller", "Northwind Cells",
     "Mina Cho", "03/02/2012", "04/02/2013", "14/04/2015", "14/04/2015", "0,5"),
    ("EP-3456789-A1", "Modul mit Kühlplatte", "Volta GmbH", "Anna Müller, René Dupont",
     "15/01/2018", "16/01/2019", "24/07/2019", "", "1.234,5"),
    ("US-10987654-B2", "Cell temperature estimation", "Harbor Energy", "Mina Cho, Tom Becker",
     "15/01/2018", "14/01/2019", "27/04/2021", "27/04/2021", "2"),
]  # fmt: skip


def _european_bytes() -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    w.writerow(["search URL:", "https://patents.google.com/?q=battery+cooling&oq=battery"])
    w.writerow(EUROPEAN_HEADER)
    for r in EUROPEAN_ROWS:
        w.writerow([*r[:8], f"https://patents.google.com/patent/{r[0].replace('-', '')}/en", r[8]])
    return buf.getvalue().encode("cp1252")


WIPSON_HEADER = [
    "번호",
    "WIPS ON key",
    "국가코드",
    "문헌종류",
    "발명의 명칭",
    "요약",
    "출원번호",
    "출원일",
    "공개번호",
    "공개일",
    "등록번호",
    "등록일",
    "출원인",
    "발명자",
    "IPC",
    "우선권 주장번호",
    "우선권 주장일",
    "패밀리 문헌번호",
]
# (kind, title, abstract, app no, app date, pub no, pub date, reg no, reg date,
#  applicants, inventors, ipc, priority numbers, priority dates, family)
WIPSON_ROWS = [
    ("A", "배터리 모듈의 냉각 장치", "배터리 셀 사이에 냉각판을 두어 열을 빠르게 빼내는 냉각 장치.",
     "1020180012345", "2018.02.01", "1020190087654", "2019.08.09", None, None,
     "주식회사 한빛에너지", "김서연 | 이지호", "H01M 10/613 | H01M 10/6556",
     "KR1020170012345", "2017.02.03", "KR1020190087654 | US2019123456"),
    ("B1", "배터리 모듈의 냉각 장치", "배터리 셀 사이에 냉각판을 두어 열을 빠르게 빼내는 냉각 장치.",
     "1020180012345", "2018.02.01", "1020190087654", "2019.08.09", "0490308", "2020.03.05",
     "주식회사 한빛에너지", "김서연 | 이지호", "H01M 10/613 | H01M 10/6556",
     "KR1020170012345", "2017.02.03", "KR1020190087654 | US2019123456"),
    ("A", "전기차 배터리 열관리 시스템", "냉각수 유로와 히트펌프를 함께 제어하여 배터리 온도를 유지한다.",
     "1020190055555", "2019.05.10", "1020200111111", "2020.09.21", None, None,
     "현대모터스 주식회사 | 기아모터스 주식회사", "박민수", "B60L 58/26 | H01M 10/625",
     "KR1020180044444 | KR1020180044445", "2018.05.11 | 2018.06.20", "KR1020200111111"),
    ("B1", "전기차 배터리 열관리 시스템", "냉각수 유로와 히트펌프를 함께 제어하여 배터리 온도를 유지한다.",
     "1020190055555", "2019.05.10", "1020200111111", "2020.09.21", "1512171", "2021.04.12",
     "현대모터스 주식회사 | 기아모터스 주식회사", "박민수", "B60L 58/26 | H01M 10/625",
     "KR1020180044444 | KR1020180044445", "2018.05.11 | 2018.06.20", "KR1020200111111"),
    ("A", "상변화 물질을 이용한 배터리 팩", "셀 사이에 상변화 물질을 채워 급속 충전 중의 열을 흡수한다.",
     "1020200077777", "2020.06.15", "1020210999999", "2021.12.24", None, None,
     "주식회사 한빛에너지", "이지호", "H01M 10/659",
     None, None, None),
    ("A", "연삭 장치의 연삭량 측정 시스템", "핸들러와 연삭 장치를 결합하여 연삭량을 측정하는 시스템.",
     "1020210033333", "2021.03.02", "1020220123456", "2022.09.01", None, None,
     "주식회사 윈텍오토메이션", "최가람 | 한도윤", "B24B 49/12 | B24B 27/00",
     "KR1020200022222", "2020.02.20", None),
    ("B1", "연삭 장치의 연삭량 측정 시스템", "핸들러와 연삭 장치를 결합하여 연삭량을 측정하는 시스템.",
     "1020210033333", "2021.03.02", "1020220123456", "2022.09.01", "0512345", "2023.01.16",
     "주식회사 윈텍오토메이션", "최가람 | 한도윤", "B24B 49/12 | B24B 27/00",
     "KR1020200022222", "2020.02.20", None),
    ("A", "배터리 셀 온도 측정용 센서 홀더", "셀 표면에 온도 센서를 밀착시키는 탄성 홀더.",
     "1020220044444", "2022.04.04", "1020230055555", "2023.10.10", None, None,
     "케이배터리 주식회사 | 주식회사 한빛에너지", "정하늘", "H01M 10/48 | G01K 1/14",
     "KR1020210066666 | JP2021111111", "2021.04.05 | 2021.07.30", None),
]  # fmt: skip


def wipson_rows() -> list[list]:
    rows = []
    for i, r in enumerate(WIPSON_ROWS, 1):
        kind, title, abstract, app, app_d, pub, pub_d, reg, reg_d, apl, inv, ipc, pn, pd, fam = r
        key = f"KR{app}{kind}"
        rows.append(
            [i, key, "KR", kind, title, abstract, app, app_d, pub, pub_d, reg, reg_d]
            + [apl, inv, ipc, pn, pd, fam]
        )
    return rows


LENS_HEADER = [
    "#",
    "Jurisdiction",
    "Kind",
    "Display Key",
    "Lens ID",
    "Publication Date",
    "Publication Year",
    "Application Number",
    "Application Date",
    "Priority Numbers",
    "Earliest Priority Date",
    "Title",
    "Abstract",
    "Applicants",
    "Inventors",
    "URL",
    "Document Type",
    "Simple Family Size",
    "Simple Family Members",
    "Simple Family Member Jurisdictions",
    "Cited Patents",
    "CPC Classifications",
]
LENS_ROWS = [
    ("US", "B2", "10987654", "012-345-678-901-23X", "2021-04-27", "US 201916247012 A",
     "2019-01-14", "US 201862617400 P", "2018-01-15", "Cell temperature from impedance",
     "A controller estimates the internal temperature of each cell from its impedance.",
     "HARBOR ENERGY SYSTEMS LLC", "CHO MINA;;BECKER TOM",
     "012-345-678-901-23X;;104-220-331-876-55Y;;161-555-010-333-99V", "US;;EP;;US",
     "US 2015/0123456 A1;;US 8765432 B2", "H01M10/486;;G01R31/389"),
    ("EP", "A1", "3456789", "104-220-331-876-55Y", "2019-03-20", "EP 18190011 A",
     "2018-08-21", "US 201862617400 P", "2018-01-15", "Cell temperature estimation",
     "The temperature of a cell is estimated from its impedance spectrum.",
     "HARBOR ENERGY SYSTEMS LLC", "CHO MINA",
     "012-345-678-901-23X;;104-220-331-876-55Y", "US;;EP",
     "US 8765432 B2", "H01M10/486"),
    ("WO", "A1", "2020123456", "180-007-662-914-01Z", "2020-06-18", "EP 2019085432 W",
     "2019-12-16", "DE 102018222459 A", "2018-12-20", "Neural network for battery degradation",
     "A recurrent neural network predicts the remaining capacity of a battery cell.",
     "VOLTA ANALYTICS GMBH", "MUELLER ANNA;;SCHMIDT JONAS",
     "180-007-662-914-01Z", "WO",
     "", "G06N3/08;;G01R31/367"),
    ("US", "A1", "2022012345", "161-555-010-333-99V", "2022-01-13", "US 202117371234 A",
     "2021-07-09", "US 202063050123 P", "2020-07-10", "Thermal runaway detection",
     "Gas sensor signals are classified by a neural network that warns of thermal runaway.",
     "NORTHWIND CELLS INC;;HARBOR ENERGY SYSTEMS LLC", "PARK ADA",
     "161-555-010-333-99V;;012-345-678-901-23X", "US;;US",
     "US 8765432 B2;;CN 111234567 A", "G06N3/08;;H01M10/48"),
]  # fmt: skip


def write_lens(path: Path) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(LENS_HEADER)
        for i, r in enumerate(LENS_ROWS, 1):
            jur, kind, num, lens_id, pub, app_no, app_d, prio, prio_d = r[:9]
            title, abstract, applicants, inventors, family, fam_jur, cited, cpc = r[9:]
            w.writerow(
                [i, jur, kind, f"{jur} {num} {kind}", lens_id, pub, pub[:4], app_no, app_d]
                + [prio, prio_d, title, abstract, applicants, inventors]
                + [f"https://lens.org/{lens_id}", "Patent", len(family.split(";;"))]
                + [family, fam_jur, cited, cpc]
            )


def write_xlsx(path: Path, rows: list[list]) -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    for row in rows:
        ws.append(row)
    wb.save(path)


def write_xls(path: Path, rows: list[list]) -> None:
    import xlwt

    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("Sheet1")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is not None:
                ws.write(r, c, value)
    wb.save(str(path))


def main() -> None:
    (HERE / "espacenet.csv").write_bytes(_espacenet_bytes())
    (HERE / "european.csv").write_bytes(_european_bytes())
    rows = [["WIPS ON 검색결과 (8건)"], [], WIPSON_HEADER, *wipson_rows()]
    write_xlsx(HERE / "wipson.xlsx", rows)
    write_xls(HERE / "wipson.xls", rows)
    write_lens(HERE / "lens_family.csv")


if __name__ == "__main__":
    main()
