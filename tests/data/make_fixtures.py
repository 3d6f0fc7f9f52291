"""Writes the exporter fixtures of tests/test_exports.py that are not plain text.

Run from the repository root: ``python tests/data/make_fixtures.py``.  The files
it writes are committed; the rows are made up for these tests (own text), in
the header layouts of the real exports:

- ``lens.csv``: Lens.org's patent CSV export (37 columns, ``;;``-separated lists);
- ``kipris_export.xlsx``: a Korean database's Excel export, with rows of search
  information and a blank row above the header, dotted dates, Excel date cells
  and ``|``-separated codes;
- ``edited.xlsx``: a spreadsheet saved from pandas (an unnamed index column) and
  edited by hand: names with spaces, a slash, parentheses, a dot, a repeated name.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

HERE = Path(__file__).resolve().parent

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
    "Owners",
    "URL",
    "Document Type",
    "Has Full Text",
    "Cites Patent Count",
    "Cited by Patent Count",
    "Simple Family Size",
    "Simple Family Members",
    "Simple Family Member Jurisdictions",
    "Extended Family Size",
    "Extended Family Members",
    "Extended Family Member Jurisdictions",
    "Sequence Count",
    "CPC Classifications",
    "IPCR Classifications",
    "US Classifications",
    "NPL Citation Count",
    "NPL Resolved Citation Count",
    "NPL Resolved Lens ID(s)",
    "NPL Resolved External ID(s)",
    "NPL Citations",
    "Legal Status",
]

LENS_ROWS = [
    # jurisdiction, kind, number, lens id, pub date, app number, app date, priority,
    # title, abstract, applicants, inventors, cpc, ipcr
    (
        "US",
        "B2",
        "10987654",
        "012-345-678-901-23X",
        "2021-04-27",
        "US 201916247012 A",
        "2019-01-14",
        "US 201862617400 P;;US 201916247012 A",
        "2018-01-15",
        "Method for estimating cell temperature from impedance measurements",
        "A controller estimates the internal temperature of each cell from its impedance and "
        "limits the charging current above a threshold.",
        "HARBOR ENERGY SYSTEMS LLC",
        "CHO MINA;;BECKER TOM",
        "H01M10/486;;H01M10/443;;G01R31/389",
        "H01M10/48;;G01R31/389",
    ),
    (
        "EP",
        "A1",
        "3456789",
        "104-220-331-876-55Y",
        "2019-03-20",
        "EP 18190011 A",
        "2018-08-21",
        "KR 20170094561 A",
        "2017-07-26",
        "Battery pack with phase change material for thermal management",
        "A phase change material between the cells absorbs heat during fast charging and "
        "releases it while the vehicle is parked.",
        "HANBIT ENERGY CO;;HANBIT MOTORS CO",
        "KIM SEO-YEON;;LEE JI-HO",
        "H01M10/659;;H01M10/613;;Y02E60/10",
        "H01M10/659;;H01M10/613",
    ),
    (
        "WO",
        "A1",
        "2020123456",
        "180-007-662-914-01Z",
        "2020-06-18",
        "EP 2019085432 W",
        "2019-12-16",
        "DE 102018222459 A",
        "2018-12-20",
        "Neural network for predicting battery degradation",
        "A recurrent neural network is trained on charge curves to predict the remaining "
        "capacity of a battery cell.",
        "VOLTA ANALYTICS GMBH",
        "MUELLER ANNA;;SCHMIDT JONAS;;WEBER LEA",
        "G06N3/08;;G06N3/044;;G01R31/367",
        "G06N3/08;;G01R31/367",
    ),
    (
        "CN",
        "A",
        "111234567",
        "055-901-348-227-12W",
        "2020-05-08",
        "CN 202010012345 A",
        "2020-01-07",
        "CN 202010012345 A",
        "2020-01-07",
        "Liquid cooling plate with bionic flow channels",
        "A cooling plate has branching flow channels shaped like leaf veins, so that coolant "
        "reaches every cell at nearly the same temperature.",
        "DONGFANG POWER CO LTD",
        "ZHANG WEI",
        "H01M10/6556;;H01M10/625",
        "H01M10/6556",
    ),
    (
        "US",
        "A1",
        "2022012345",
        "161-555-010-333-99V",
        "2022-01-13",
        "US 202117371234 A",
        "2021-07-09",
        "US 202063050123 P",
        "2020-07-10",
        "Machine learning model for thermal runaway detection",
        "Gas sensor signals are classified by a trained neural network that warns of thermal "
        "runaway before the cell vents.",
        "NORTHWIND CELLS INC",
        "PARK ADA;;ROMERO LOUIS",
        "G06N3/08;;H01M10/48",
        "G06N3/08;;H01M10/42",
    ),
]


def write_lens(path: Path) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(LENS_HEADER)
        for i, r in enumerate(LENS_ROWS, 1):
            (
                jur,
                kind,
                num,
                lens_id,
                pub,
                app_no,
                app_date,
                prio,
                prio_date,
                title,
                abstract,
                applicants,
                inventors,
                cpc,
                ipcr,
            ) = r
            row = {
                "#": i,
                "Jurisdiction": jur,
                "Kind": kind,
                "Display Key": f"{jur} {num} {kind}",
                "Lens ID": lens_id,
                "Publication Date": pub,
                "Publication Year": pub[:4],
                "Application Number": app_no,
                "Application Date": app_date,
                "Priority Numbers": prio,
                "Earliest Priority Date": prio_date,
                "Title": title,
                "Abstract": abstract,
                "Applicants": applicants,
                "Inventors": inventors,
                "Owners": "",
                "URL": f"https://lens.org/{lens_id}",
                "Document Type": "Granted Patent" if kind.startswith("B") else "Patent Application",
                "Has Full Text": "true" if jur in ("US", "EP") else "false",
                "Cites Patent Count": 3 + i,
                "Cited by Patent Count": i % 3,
                "Simple Family Size": 1,
                "Simple Family Members": lens_id,
                "Simple Family Member Jurisdictions": jur,
                "Extended Family Size": 1,
                "Extended Family Members": lens_id,
                "Extended Family Member Jurisdictions": jur,
                "Sequence Count": 0,
                "CPC Classifications": cpc,
                "IPCR Classifications": ipcr,
                "US Classifications": "",
                "NPL Citation Count": 0,
                "NPL Resolved Citation Count": 0,
                "NPL Resolved Lens ID(s)": "",
                "NPL Resolved External ID(s)": "",
                "NPL Citations": "",
                "Legal Status": "ACTIVE" if i % 2 else "PENDING",
            }
            w.writerow([row[c] for c in LENS_HEADER])


KIPRIS_ABOVE = [
    ["특허·실용신안 검색결과"],
    ["검색식", "TAC=[배터리*냉각]+[배터리*열관리]"],
    ["검색일자", "2024.05.10"],
    ["검색건수", 5],
    ["정렬", "출원일자 내림차순"],
    ["다운로드 항목", "번호, 출원번호, 출원일자, 발명의명칭, 요약, 출원인, IPC분류, CPC분류"],
    [],
]
KIPRIS_HEADER = [
    "번호",
    "출원번호",
    "출원일자",
    "발명의명칭",
    "요약",
    "출원인",
    "IPC분류",
    "CPC분류",
    "등록번호",
    "등록일자",
    "상태",
]
KIPRIS_ROWS = [
    [
        1,
        "1020230003245",
        "2023.01.10",
        "배터리 모듈의 냉각 장치",
        "본 발명은 배터리 셀 사이에 냉각판을 두어 열을 빠르게 빼내는 "
        "배터리 모듈의 냉각 장치에 관한 것이다.",
        "주식회사 한빛에너지",
        "H01M 10/613|H01M 10/6556",
        "H01M 10/613|Y02E 60/10",
        "1025550000000",
        dt.datetime(2024, 3, 5),
        "등록",
    ],
    [
        2,
        "1020220062084",
        "2022.05.20",
        "전기차 배터리 열관리 시스템",
        "냉각수 유로와 히트펌프를 함께 제어하여 겨울철에도 배터리 온도를 "
        "적정하게 유지하는 열관리 시스템.",
        "현대모터스 주식회사|기아모터스 주식회사",
        "B60L 58/26|H01M 10/625",
        "B60L 58/26",
        None,
        None,
        "공개",
    ],
    [
        3,
        "1020210147821",
        "2021.11.01",
        "상변화 물질을 이용한 배터리 팩",
        "셀 사이에 상변화 물질을 채워 급속 충전 중 발생하는 열을 흡수하는 배터리 팩을 제공한다.",
        "주식회사 한빛에너지",
        "H01M 10/659|H01M 10/613",
        "H01M 10/659",
        "1024582310000",
        dt.datetime(2022, 10, 19),
        "등록",
    ],
    [
        4,
        "1020190100688",
        "2019.08.18",
        "연삭 장치의 연삭량 측정 시스템",
        "제품을 공급하고 취출하는 핸들러와 연삭 장치를 결합하여 연삭량을 "
        "측정하는 시스템에 관한 것이다.",
        "주식회사 윈텍오토메이션",
        "B24B 49/12|B24B 27/00",
        "B24B 49/12",
        None,
        None,
        "거절",
    ],
    [
        5,
        "2020180001234",
        "2018.03.02",
        "배터리 셀 온도 측정용 센서 홀더",
        "셀 표면에 온도 센서를 밀착시키는 탄성 홀더를 구비한 고안이다.",
        "케이배터리 주식회사",
        "H01M 10/48",
        "H01M 10/486|G01K 1/14",
        "2004567890000",
        dt.datetime(2019, 1, 15),
        "등록",
    ],
]

EDITED_HEADER = [
    None,
    "발명의 명칭",
    "요약",
    "출원인",
    "priority date",
    "filing/creation date",
    "IPC (main)",
    "app.no",
    "출원인",
]
EDITED_ROWS = [
    [
        0,
        "배터리 모듈의 냉각 장치",
        "배터리 셀 사이에 냉각판을 두어 열을 빼낸다.",
        "주식회사 한빛에너지",
        "2022-12-01",
        dt.datetime(2023, 1, 10),
        "H01M 10/613",
        "10-2023-0003245",
        "한빛",
    ],
    [
        1,
        "전기차 배터리 열관리 시스템",
        "냉각수 유로와 히트펌프를 함께 제어한다.",
        "현대모터스 주식회사",
        "2021-05-20",
        dt.datetime(2022, 5, 20),
        "B60L 58/26",
        "10-2022-0062084",
        "현대",
    ],
    [
        2,
        "연삭 장치의 연삭량 측정 시스템",
        "핸들러와 연삭 장치를 결합하여 연삭량을 측정한다.",
        "주식회사 윈텍오토메이션",
        "2019-08-18",
        dt.datetime(2019, 8, 18),
        "B24B 49/12",
        "10-2019-0100688",
        "윈텍",
    ],
]


def write_xlsx(path: Path, rows: list[list]) -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    for row in rows:
        ws.append(row)
    wb.save(path)


def main() -> None:
    write_lens(HERE / "lens.csv")
    write_xlsx(HERE / "kipris_export.xlsx", [*KIPRIS_ABOVE, KIPRIS_HEADER, *KIPRIS_ROWS])
    write_xlsx(HERE / "edited.xlsx", [EDITED_HEADER, *EDITED_ROWS])


if __name__ == "__main__":
    main()
