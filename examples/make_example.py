"""Write examples/patents.xlsx: a small, synthetic, Korean patent table for the demo.

The file has the shape of the classic Korean SBERT tutorial's ``patents.xlsx`` (one sheet,
columns application_number … country), but every row is made up here: titles and abstracts
are composed from ten technical topics with several phrase variants per slot, so documents
on the same topic read alike and a similarity search returns sensible neighbours.

Deterministic (fixed seed), standard library + openpyxl only::

    python examples/make_example.py            # writes examples/patents.xlsx
    python examples/make_example.py OUT.xlsx   # writes elsewhere

Fixed points the README demo relies on: row 0 is a battery thermal-management patent,
rows 57 and 143 have an empty abstract (the ingest summary reports them as skipped).
"""

# ruff: noqa: E501  (Korean phrase tables: full-width characters count double)

from __future__ import annotations

import datetime as dt
import io
import random
import re
import sys
import zipfile
from pathlib import Path

from openpyxl import Workbook

SEED = 20240611
N_ROWS = 200
EMPTY_ABSTRACT_ROWS = (57, 143)
LATEST = dt.date(2025, 10, 31)  # no date in the file is later than this
STAMP = dt.datetime(2025, 11, 1)  # the file's created/modified metadata

COLUMNS = (
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

# --------------------------------------------------------------------------------------
# Topics.  subjects: (phrase before "에 관한 것으로서", head noun the abstract calls 상기 …,
# title variants); tails: endings added to a title; components: noun phrases listed in the
# first sentence; features / effects: whole sentences; ipc: the first code is the topic's
# main group and usually comes first; applicants: (name, weight).
# --------------------------------------------------------------------------------------

TOPICS: dict[str, dict] = {
    "battery_thermal": {
        "weight": 1.3,
        "subjects": [
            (
                "전기차용 배터리 팩의 냉각 장치",
                "냉각 장치",
                ("배터리 팩의 냉각 장치", "전기차용 배터리 냉각 장치"),
            ),
            (
                "배터리 모듈의 열관리 시스템",
                "열관리 시스템",
                ("배터리 모듈의 열관리 시스템", "배터리 열관리 시스템"),
            ),
            (
                "이차전지 셀 간 열전파를 차단하는 배터리 모듈",
                "배터리 모듈",
                (
                    "열폭주 전파 방지 구조를 갖는 배터리 모듈",
                    "셀 간 단열 부재를 구비한 배터리 모듈",
                ),
            ),
            (
                "배터리 팩의 온도를 제어하는 열관리 방법 및 장치",
                "열관리 장치",
                ("배터리 팩의 온도 제어 장치", "전기차 배터리의 열관리 장치"),
            ),
            (
                "수냉식 배터리 냉각 플레이트",
                "냉각 플레이트",
                ("수냉식 배터리 냉각 플레이트", "유로 일체형 냉각 플레이트"),
            ),
        ],
        "components": [
            "복수의 배터리 셀이 적층된 셀 스택",
            "상기 셀 스택의 하부에 배치되어 냉각수가 유동하는 냉각 플레이트",
            "상기 배터리 셀과 상기 냉각 플레이트 사이에 개재되는 열전도 패드",
            "상기 냉각수의 유량을 조절하는 유량 제어 밸브",
            "상기 배터리 셀의 온도를 측정하는 온도 센서",
            "인접한 배터리 셀 사이에 배치되는 단열 부재",
            "상기 냉각수를 순환시키는 펌프",
        ],
        "features": [
            "상기 냉각 플레이트의 내부에는 냉각수가 지그재그 형태로 유동하도록 복수의 유로가 형성된다.",
            "제어부는 상기 온도 센서에서 측정된 셀 온도가 기준 온도를 초과하면 펌프의 회전수를 "
            "증가시켜 배터리의 냉각 성능을 높인다.",
            "상기 단열 부재는 특정 배터리 셀에서 열폭주가 발생하는 경우 인접한 셀로 열이 전파되는 "
            "것을 지연시킨다.",
            "상기 열전도 패드는 셀 스택의 하면과 냉각 플레이트 사이의 공극을 채워 열저항을 감소시킨다.",
            "저온 환경에서는 히터를 이용하여 배터리 셀을 적정 온도까지 예열한 후 충전을 시작한다.",
            "냉각 유로의 입구와 출구 사이의 냉각수 온도 차이를 이용하여 배터리 모듈의 발열량을 추정한다.",
        ],
        "effects": [
            "이에 따라, 배터리 셀 간의 온도 편차를 줄이고 배터리의 수명과 안전성을 향상시킬 수 있다.",
            "본 발명에 따르면, 급속 충전 시 발생하는 열을 효과적으로 방출하여 배터리 팩의 열폭주 "
            "위험을 낮출 수 있다.",
            "따라서, 별도의 공간을 추가로 확보하지 않고도 배터리 팩의 냉각 효율을 높일 수 있는 효과가 있다.",
            "이를 통해 전기차의 주행 거리와 배터리 충전 성능을 안정적으로 유지할 수 있다.",
        ],
        "tails": [
            "",
            " 및 그 제어 방법",
            " 및 이를 포함하는 배터리 팩",
            " 및 이를 포함하는 전기 자동차",
        ],
        "ipc": [
            "H01M 10/613",
            "H01M 10/625",
            "H01M 10/6556",
            "H01M 10/6568",
            "B60L 58/26",
            "H01M 50/204",
            "H01M 10/658",
        ],
        "applicants": [
            ("현대자동차주식회사", 5),
            ("주식회사 엘지에너지솔루션", 5),
            ("삼성에스디아이 주식회사", 3),
            ("기아 주식회사", 2),
            ("엘지전자 주식회사", 1),
        ],
    },
    "grinding": {
        "weight": 1.0,
        "subjects": [
            (
                "연삭 장치에서 가공물의 연삭량을 측정하는 시스템",
                "측정 시스템",
                ("연삭량 자동 측정 장치", "연삭 가공물의 두께 측정 시스템"),
            ),
            (
                "초경인서트의 양면을 동시에 가공하는 연삭 장치",
                "연삭 장치",
                ("초경인서트 양면 연삭 장치", "가공물 자동 공급형 연삭 장치"),
            ),
            (
                "연삭 숫돌의 마모를 보정하는 가공 장치",
                "가공 장치",
                ("연삭 숫돌 마모 보정 장치", "자동 드레싱 기능을 갖는 연삭기"),
            ),
            (
                "공작기계의 가공 정밀도를 유지하는 연삭 제어 방법 및 장치",
                "연삭 제어 장치",
                ("연삭 이송량 보정 장치", "진공 흡착식 연삭 지그를 구비한 연삭 장치"),
            ),
        ],
        "components": [
            "가공물을 공급하고 취출하도록 구성되는 핸들러 장치",
            "상기 가공물을 고정하는 지그 테이블",
            "회전하면서 상기 가공물의 표면을 연삭하는 연삭 숫돌",
            "상기 연삭 숫돌을 상하로 이송하는 스핀들 이송부",
            "연삭 전후의 가공물 두께를 측정하는 변위 센서",
            "상기 연삭 숫돌의 표면을 정형하는 드레싱 유닛",
            "연삭 부위에 절삭유를 분사하는 노즐",
        ],
        "features": [
            "상기 변위 센서는 연삭 전과 연삭 후의 가공물 높이를 각각 측정하고, 제어부는 그 차이로부터 "
            "실제 연삭량을 산출한다.",
            "산출된 연삭량이 목표 연삭량과 다르면 상기 스핀들 이송부의 이송량을 자동으로 보정한다.",
            "상기 드레싱 유닛은 일정 수량의 가공물을 연삭할 때마다 연삭 숫돌의 표면을 정형하여 연삭 "
            "성능을 회복시킨다.",
            "상기 핸들러 장치는 로봇 암을 이용하여 가공물을 지그 테이블에 안착시키고 가공이 완료된 "
            "가공물을 배출 컨베이어로 이송한다.",
            "연삭 숫돌의 마모량은 스핀들 모터의 부하 전류 변화를 통해 추정된다.",
            "상기 지그 테이블은 진공 흡착 방식으로 가공물을 고정하여 연삭 중 가공물의 유동을 방지한다.",
        ],
        "effects": [
            "이에 따라, 작업자의 개입 없이 가공물의 치수 정밀도를 일정하게 유지할 수 있다.",
            "본 발명에 따르면, 연삭 숫돌의 마모로 인한 가공 불량을 줄이고 생산성을 향상시킬 수 있다.",
            "따라서, 연삭 공정의 자동화율을 높이고 불량률을 낮출 수 있는 효과가 있다.",
            "이를 통해 초경인서트와 같은 고경도 소재도 균일한 품질로 연삭 가공할 수 있다.",
        ],
        "tails": ["", " 및 그 측정 방법", " 및 이의 제어 방법", " 및 이를 이용한 가공 방법"],
        "ipc": [
            "B24B 49/12",
            "B24B 3/34",
            "B23Q 17/20",
            "B23Q 17/24",
            "B24B 7/22",
            "B24B 53/00",
            "B24B 41/06",
        ],
        "applicants": [
            ("주식회사 윈텍오토메이션", 6),
            ("한국기계연구원", 2),
            ("삼성전자 주식회사", 1),
        ],
    },
    "vision_inspection": {
        "weight": 1.0,
        "subjects": [
            (
                "제품 외관의 결함을 검출하는 비전 검사 장치",
                "비전 검사 장치",
                ("비전 검사 장치", "반사광 제거 기능을 갖는 외관 검사 장치"),
            ),
            (
                "딥러닝 기반의 표면 결함 검사 시스템",
                "검사 시스템",
                ("딥러닝 기반 표면 결함 검사 시스템", "인공지능 외관 불량 판정 시스템"),
            ),
            (
                "다각도 조명을 이용한 부품 외관 검사 장치",
                "외관 검사 장치",
                (
                    "다각도 조명을 이용한 외관 검사 장치",
                    "절삭 공구 측면 결함 검사용 영상 획득 장치",
                ),
            ),
            (
                "생산 라인에서 제품의 치수를 측정하는 영상 측정 방법 및 장치",
                "영상 측정 장치",
                (
                    "부품 치수 측정을 위한 영상 측정 장치",
                    "텔레센트릭 광학계를 이용한 치수 측정 장치",
                ),
            ),
        ],
        "components": [
            "검사 대상물을 촬영하는 카메라",
            "상기 검사 대상물에 서로 다른 각도로 빛을 조사하는 복수의 조명부",
            "상기 검사 대상물을 검사 위치로 이송하는 스테이지",
            "촬영된 영상에서 결함 영역을 검출하는 영상 처리부",
            "결함으로 판정된 대상물을 분류하는 선별부",
            "상기 카메라의 전방에 배치되는 텔레센트릭 렌즈",
        ],
        "features": [
            "상기 영상 처리부는 학습된 합성곱 신경망을 이용하여 스크래치, 찍힘, 이물 등의 결함을 분류한다.",
            "상기 조명부는 동축 조명과 측면 조명을 순차적으로 점등하고, 카메라는 각 조명 조건에서 "
            "영상을 획득한다.",
            "획득된 복수의 영상을 합성하여 반사광에 의한 노이즈가 제거된 검사 영상을 생성한다.",
            "상기 스테이지는 검사 대상물을 회전시켜 측면과 모서리 부분을 모두 촬영할 수 있도록 한다.",
            "상기 영상 처리부는 기준 영상과 검사 영상의 차이를 계산하여 허용 범위를 벗어나는 영역을 "
            "결함으로 판정한다.",
            "검사 결과는 생산 관리 서버로 전송되어 불량 원인 분석에 활용된다.",
        ],
        "effects": [
            "이에 따라, 육안 검사에 의존하던 외관 검사를 자동화하여 검사 시간과 인력을 줄일 수 있다.",
            "본 발명에 따르면, 미세한 결함까지 높은 정확도로 검출하여 불량품의 유출을 방지할 수 있다.",
            "따라서, 제품 표면의 반사 특성에 관계없이 안정적인 검사 결과를 얻을 수 있는 효과가 있다.",
            "이를 통해 생산 라인의 속도를 저하시키지 않고 전수 검사를 수행할 수 있다.",
        ],
        "tails": ["", " 및 그 검사 방법", " 및 이를 이용한 결함 검출 방법"],
        "ipc": [
            "G01N 21/88",
            "G01N 21/95",
            "G06T 7/0004",
            "G01B 11/24",
            "G01N 21/01",
            "G06N 3/08",
            "H04N 23/56",
        ],
        "applicants": [
            ("주식회사 윈텍오토메이션", 4),
            ("삼성전자 주식회사", 2),
            ("엘지전자 주식회사", 2),
            ("주식회사 뷰웍스", 1),
            ("한국기계연구원", 1),
        ],
    },
    "autonomous_sensor": {
        "weight": 1.1,
        "subjects": [
            (
                "자율주행 차량의 센서 융합 장치",
                "센서 융합 장치",
                ("자율주행 차량의 센서 융합 장치", "센서 고장 대응이 가능한 자율주행 제어 장치"),
            ),
            (
                "차량용 라이다 센서의 오염을 감지하는 장치",
                "감지 장치",
                ("차량용 라이다 오염 감지 장치", "라이다 센서 세척 제어 장치"),
            ),
            (
                "레이더와 카메라를 이용한 주변 객체 인식 방법 및 장치",
                "객체 인식 장치",
                ("레이더와 카메라를 이용한 객체 인식 장치", "악천후 대응 차량 주변 인식 시스템"),
            ),
            (
                "자율주행 차량의 센서 캘리브레이션 시스템",
                "캘리브레이션 시스템",
                ("자율주행 센서 캘리브레이션 시스템", "카메라와 라이다의 외부 파라미터 보정 장치"),
            ),
        ],
        "components": [
            "차량 전방을 촬영하는 카메라",
            "차량 주변에 레이저를 조사하여 점군 데이터를 생성하는 라이다 센서",
            "전자파를 송수신하여 객체의 거리와 속도를 측정하는 레이더 센서",
            "각 센서의 데이터를 시간 동기화하는 동기화부",
            "센서 데이터를 융합하여 주변 객체를 추적하는 융합 처리부",
            "차량의 주행 경로를 생성하는 주행 제어부",
        ],
        "features": [
            "상기 융합 처리부는 칼만 필터를 이용하여 카메라와 레이더에서 검출된 객체의 위치를 융합한다.",
            "라이다 센서의 수신 신호 세기가 기준값 이하로 떨어지면 센서 창의 오염으로 판단하고 세척 "
            "장치를 구동한다.",
            "어느 하나의 센서에 고장이 발생하면 나머지 센서의 신뢰도 가중치를 높여 객체 인식을 계속 수행한다.",
            "주행 중 차선과 도로 표지판을 기준점으로 이용하여 카메라와 라이다 사이의 외부 파라미터를 보정한다.",
            "상기 주행 제어부는 추적된 객체의 예상 경로와 자차의 경로가 교차하는 경우 감속 또는 회피 "
            "경로를 생성한다.",
            "야간이나 악천후 상황에서는 레이더 센서의 검출 결과에 더 높은 가중치를 부여한다.",
        ],
        "effects": [
            "이에 따라, 다양한 주행 환경에서 주변 객체를 안정적으로 인식하여 자율주행의 안전성을 높일 수 있다.",
            "본 발명에 따르면, 센서의 오염이나 고장에도 불구하고 자율주행 기능을 유지할 수 있다.",
            "따라서, 별도의 캘리브레이션 설비 없이도 센서 간 정합 정확도를 유지할 수 있는 효과가 있다.",
            "이를 통해 보행자와 차량의 충돌 위험을 사전에 판단하여 사고를 예방할 수 있다.",
        ],
        "tails": ["", " 및 그 방법", " 및 이를 포함하는 차량"],
        "ipc": [
            "G01S 17/931",
            "G01S 13/931",
            "B60W 40/02",
            "G01S 7/497",
            "B60W 60/00",
            "G06V 20/58",
            "G01S 13/86",
        ],
        "applicants": [
            ("현대자동차주식회사", 5),
            ("에이치엘만도 주식회사", 3),
            ("기아 주식회사", 2),
            ("삼성전자 주식회사", 1),
            ("엘지전자 주식회사", 1),
            ("한국전자통신연구원", 1),
        ],
    },
    "semiconductor_package": {
        "weight": 1.1,
        "subjects": [
            (
                "복수의 반도체 칩이 적층된 반도체 패키지",
                "반도체 패키지",
                ("적층형 반도체 패키지", "관통 전극을 포함하는 반도체 장치"),
            ),
            (
                "방열 구조를 갖는 반도체 패키지 및 그 제조 방법",
                "반도체 패키지",
                ("방열판을 구비한 반도체 패키지", "휨 방지 구조를 갖는 반도체 패키지"),
            ),
            (
                "팬아웃 웨이퍼 레벨 패키지의 재배선 구조",
                "재배선 구조",
                ("팬아웃 웨이퍼 레벨 패키지", "재배선층을 포함하는 반도체 패키지"),
            ),
            (
                "반도체 칩과 기판을 연결하는 범프 접합 구조",
                "접합 구조",
                ("반도체 칩의 범프 접합 구조", "하이브리드 본딩 반도체 패키지"),
            ),
        ],
        "components": [
            "회로 패턴이 형성된 패키지 기판",
            "상기 패키지 기판 상에 적층되는 복수의 반도체 칩",
            "상기 반도체 칩들을 수직으로 관통하는 관통 전극",
            "상기 반도체 칩과 상기 패키지 기판을 전기적으로 연결하는 솔더 범프",
            "상기 반도체 칩을 덮는 몰딩 부재",
            "상기 몰딩 부재의 상면에 부착되는 방열판",
            "상기 반도체 칩의 하면에 형성되는 재배선층",
        ],
        "features": [
            "상기 관통 전극은 구리로 형성되며, 상하로 인접한 반도체 칩의 관통 전극은 마이크로 범프를 "
            "통해 서로 연결된다.",
            "상기 반도체 칩과 상기 패키지 기판 사이에는 언더필 수지가 채워져 범프 접합부의 신뢰성을 높인다.",
            "방열판은 열 계면 물질을 사이에 두고 최상층 반도체 칩과 접촉하여 칩에서 발생한 열을 외부로 "
            "방출한다.",
            "재배선층은 반도체 칩의 면적보다 넓은 영역까지 연장되어 외부 연결 단자의 개수를 늘린다.",
            "몰딩 부재의 열팽창 계수는 패키지 기판의 열팽창 계수와 유사하도록 선택되어 패키지의 휨을 "
            "억제한다.",
            "하이브리드 본딩 방식을 적용하여 범프 없이 반도체 칩의 패드끼리 직접 접합한다.",
        ],
        "effects": [
            "이에 따라, 패키지의 두께를 줄이면서도 고대역폭 메모리와 같은 고집적 반도체 장치를 구현할 수 있다.",
            "본 발명에 따르면, 반도체 칩에서 발생하는 열을 효율적으로 방출하여 동작 신뢰성을 향상시킬 수 있다.",
            "따라서, 패키지의 휨과 접합 불량을 줄여 제조 수율을 높일 수 있는 효과가 있다.",
            "이를 통해 신호 전달 경로를 단축하여 반도체 패키지의 전기적 특성을 개선할 수 있다.",
        ],
        "tails": ["", " 및 그 제조 방법", " 및 이를 포함하는 메모리 모듈"],
        "ipc": [
            "H01L 23/31",
            "H01L 21/56",
            "H01L 23/498",
            "H01L 25/065",
            "H01L 23/367",
            "H01L 21/60",
            "H01L 23/48",
        ],
        "applicants": [("삼성전자 주식회사", 6), ("에스케이하이닉스 주식회사", 4)],
    },
    "display": {
        "weight": 1.0,
        "subjects": [
            (
                "유기 발광 표시 장치",
                "표시 장치",
                ("유기 발광 표시 장치", "봉지층을 포함하는 유기 발광 표시 장치"),
            ),
            (
                "폴더블 디스플레이 패널의 접힘 구조",
                "디스플레이 패널",
                ("폴더블 표시 장치", "접힘 영역에 개구 패턴을 갖는 지지 플레이트"),
            ),
            (
                "터치 센서가 일체화된 표시 장치",
                "표시 장치",
                ("터치 센서 일체형 표시 장치", "카메라 투과 영역을 구비한 표시 패널"),
            ),
            (
                "표시 장치의 화소 구동 회로",
                "화소 구동 회로",
                ("문턱 전압 보상 화소 회로를 갖는 표시 장치", "저전력 구동 표시 장치"),
            ),
        ],
        "components": [
            "복수의 화소가 배치된 표시 영역을 포함하는 기판",
            "상기 기판 상에 배치되는 박막 트랜지스터층",
            "상기 박막 트랜지스터층 상에 배치되는 유기 발광 소자",
            "상기 유기 발광 소자를 밀봉하는 봉지층",
            "상기 봉지층 상에 형성되는 터치 전극",
            "상기 화소에 데이터 전압을 공급하는 데이터 구동부",
            "표시 패널의 하부에 부착되는 지지 플레이트",
        ],
        "features": [
            "상기 봉지층은 무기막과 유기막이 교대로 적층되어 외부의 수분과 산소가 유기 발광 소자로 "
            "침투하는 것을 차단한다.",
            "화소 구동 회로는 구동 트랜지스터의 문턱 전압을 보상하여 화소 간 휘도 편차를 줄인다.",
            "지지 플레이트는 폴딩 영역에 대응하는 부분에 복수의 개구 패턴이 형성되어 패널이 반복적으로 "
            "접힐 수 있도록 한다.",
            "터치 전극은 봉지층 상에 직접 형성되어 별도의 터치 패널 없이 사용자의 터치 입력을 감지한다.",
            "저주파 구동 모드에서는 화면 갱신 주기를 늘려 표시 장치의 소비 전력을 감소시킨다.",
            "표시 영역의 일부에는 카메라 모듈이 배치되는 투과 영역이 형성되며, 투과 영역의 화소 밀도는 "
            "주변보다 낮다.",
        ],
        "effects": [
            "이에 따라, 표시 장치의 두께를 줄이고 화면의 화질 균일도를 향상시킬 수 있다.",
            "본 발명에 따르면, 반복적인 접힘에도 패널의 손상 없이 안정적인 표시 품질을 유지할 수 있다.",
            "따라서, 표시 장치의 소비 전력을 줄이고 유기 발광 소자의 수명을 연장할 수 있는 효과가 있다.",
            "이를 통해 베젤을 최소화한 전면 디스플레이를 구현할 수 있다.",
        ],
        "tails": ["", " 및 그 제조 방법", " 및 그 구동 방법"],
        "ipc": [
            "H10K 59/12",
            "G09G 3/3233",
            "H10K 50/844",
            "G06F 3/041",
            "H10K 77/10",
            "H01L 27/12",
            "G09F 9/30",
        ],
        "applicants": [
            ("삼성디스플레이 주식회사", 5),
            ("엘지디스플레이 주식회사", 4),
            ("삼성전자 주식회사", 1),
        ],
    },
    "wireless": {
        "weight": 1.0,
        "subjects": [
            (
                "무선 통신 시스템에서 상향링크 신호를 전송하는 방법 및 장치",
                "단말",
                ("무선 통신 시스템에서 상향링크 신호 전송 방법", "상향링크 전송 전력 제어 방법"),
            ),
            (
                "빔포밍을 이용한 기지국의 빔 관리 방법 및 장치",
                "기지국",
                ("빔포밍 기반 빔 관리 방법", "채널 상태 정보 보고 방법"),
            ),
            (
                "차세대 이동통신 시스템에서 무선 자원을 할당하는 방법 및 장치",
                "기지국",
                ("차세대 이동통신 시스템의 자원 할당 방법", "하이브리드 자동 재전송 제어 방법"),
            ),
            (
                "비면허 대역에서 채널에 접속하는 방법 및 장치",
                "단말",
                ("비면허 대역 채널 접속 방법", "비면허 대역에서의 신호 송수신 방법"),
            ),
        ],
        "components": [
            "무선 신호를 수신하는 수신부",
            "무선 신호를 송신하는 송신부",
            "채널 상태 정보를 측정하는 측정부",
            "복수의 안테나 요소를 포함하는 안테나 배열",
            "전송 빔의 방향을 결정하는 빔 관리부",
            "상기 수신부와 상기 송신부를 제어하는 프로세서",
        ],
        "features": [
            "단말은 기지국으로부터 설정된 복수의 후보 빔 중 수신 품질이 가장 좋은 빔의 인덱스를 보고한다.",
            "상기 프로세서는 측정된 채널 상태 정보에 기초하여 변조 및 부호화 방식을 결정한다.",
            "상향링크 전송 전력은 경로 손실과 기지국이 지시한 전력 제어 명령에 따라 조절된다.",
            "비면허 대역에서는 전송 전에 채널의 점유 여부를 감지하는 리슨 비포 토크 절차를 수행한다.",
            "기지국은 단말의 트래픽 양과 우선순위에 따라 주파수 자원과 시간 자원을 동적으로 할당한다.",
            "재전송이 필요한 경우 하이브리드 자동 재전송 요청 절차를 통해 손실된 데이터를 복구한다.",
        ],
        "effects": [
            "이에 따라, 무선 자원을 효율적으로 사용하여 시스템 전체의 전송 용량을 증가시킬 수 있다.",
            "본 발명에 따르면, 빔 실패로 인한 통신 단절을 줄이고 단말의 이동성을 보장할 수 있다.",
            "따라서, 단말의 전력 소모를 줄이면서도 안정적인 통신 품질을 유지할 수 있는 효과가 있다.",
            "이를 통해 저지연 고신뢰 통신이 필요한 서비스를 효과적으로 지원할 수 있다.",
        ],
        "tails": [" 및 장치", " 및 이를 위한 장치", ""],
        "ipc": [
            "H04W 72/04",
            "H04L 5/00",
            "H04B 7/06",
            "H04W 74/08",
            "H04W 24/10",
            "H04L 1/18",
            "H04W 52/14",
        ],
        "applicants": [
            ("삼성전자 주식회사", 5),
            ("엘지전자 주식회사", 4),
            ("한국전자통신연구원", 3),
            ("주식회사 케이티", 2),
        ],
    },
    "medical_imaging": {
        "weight": 0.8,
        "subjects": [
            (
                "엑스선 영상의 노이즈를 저감하는 의료 영상 처리 장치",
                "의료 영상 처리 장치",
                ("의료 영상 처리 장치", "저선량 엑스선 영상의 노이즈 저감 장치"),
            ),
            (
                "초음파 영상에서 병변을 자동으로 검출하는 진단 보조 시스템",
                "진단 보조 시스템",
                ("초음파 영상 기반 병변 검출 시스템", "인공지능 기반 의료 영상 진단 보조 장치"),
            ),
            (
                "컴퓨터 단층 촬영 영상의 재구성 방법 및 장치",
                "영상 재구성 장치",
                ("컴퓨터 단층 촬영 영상 재구성 장치", "움직임 보정 단층 영상 생성 장치"),
            ),
            (
                "디지털 엑스선 검출기",
                "엑스선 검출기",
                ("디지털 엑스선 검출기", "섬광체를 구비한 엑스선 영상 검출 장치"),
            ),
        ],
        "components": [
            "피검체에 엑스선을 조사하는 엑스선 소스",
            "피검체를 투과한 엑스선을 전기 신호로 변환하는 검출기",
            "피검체에 초음파를 송신하고 반사된 에코 신호를 수신하는 프로브",
            "획득된 의료 영상을 전처리하는 영상 처리부",
            "학습된 인공지능 모델을 이용하여 병변 영역을 검출하는 분석부",
            "검출 결과를 의료 영상에 중첩하여 표시하는 디스플레이부",
        ],
        "features": [
            "상기 영상 처리부는 딥러닝 기반 노이즈 제거 모델을 이용하여 저선량 영상으로부터 고화질 영상을 "
            "생성한다.",
            "상기 분석부는 병변 영역의 크기와 형태를 분석하여 악성 가능성을 점수로 산출한다.",
            "검출기는 섬광체 층과 박막 트랜지스터 어레이를 포함하여 엑스선을 디지털 영상 신호로 변환한다.",
            "서로 다른 각도에서 획득한 투영 영상을 반복 재구성 알고리즘으로 처리하여 단층 영상을 생성한다.",
            "환자의 호흡에 의한 움직임을 추정하여 의료 영상 간의 정합 오차를 보정한다.",
            "분석 결과는 의료영상저장전송시스템과 연동되어 판독의에게 제공된다.",
        ],
        "effects": [
            "이에 따라, 환자의 방사선 피폭량을 줄이면서도 진단에 충분한 화질의 영상을 얻을 수 있다.",
            "본 발명에 따르면, 판독의의 업무 부담을 줄이고 병변의 조기 발견율을 높일 수 있다.",
            "따라서, 움직임에 의한 영상 왜곡을 줄여 진단의 정확도를 향상시킬 수 있는 효과가 있다.",
            "이를 통해 의료 영상의 판독 시간을 단축하고 진단의 일관성을 확보할 수 있다.",
        ],
        "tails": ["", " 및 그 방법", " 및 이의 제어 방법"],
        "ipc": [
            "A61B 6/00",
            "A61B 6/03",
            "A61B 8/08",
            "G06T 11/00",
            "G16H 30/40",
            "G06T 5/70",
            "G01T 1/20",
        ],
        "applicants": [
            ("삼성메디슨 주식회사", 3),
            ("주식회사 뷰웍스", 3),
            ("삼성전자 주식회사", 2),
            ("한국전자통신연구원", 1),
        ],
    },
    "robot_gripper": {
        "weight": 0.8,
        "subjects": [
            (
                "다양한 형상의 물체를 파지하는 로봇 그리퍼",
                "로봇 그리퍼",
                ("로봇 그리퍼", "링크 구동형 다지 그리퍼"),
            ),
            (
                "진공 흡착 방식의 로봇 핸드",
                "로봇 핸드",
                ("진공 흡착식 로봇 핸드", "흡착 패드와 핑거를 겸비한 로봇 핸드"),
            ),
            (
                "파지력을 제어하는 로봇 그리퍼 및 그 제어 방법",
                "로봇 그리퍼",
                ("파지력 제어가 가능한 로봇 그리퍼", "촉각 센서를 갖는 로봇 핸드"),
            ),
            (
                "탄성 재질의 핑거를 갖는 적응형 그리퍼",
                "적응형 그리퍼",
                ("탄성 핑거를 구비한 적응형 그리퍼", "소프트 로봇 그리퍼"),
            ),
        ],
        "components": [
            "로봇 암의 끝단에 결합되는 베이스 프레임",
            "상기 베이스 프레임에 회전 가능하게 연결되는 복수의 핑거",
            "상기 핑거를 구동하는 구동 모터",
            "상기 핑거의 끝단에 구비되어 접촉력을 측정하는 촉각 센서",
            "물체의 표면을 흡착하는 진공 패드",
            "상기 구동 모터의 동력을 상기 핑거로 전달하는 링크 기구",
        ],
        "features": [
            "촉각 센서에서 측정된 접촉력이 설정값에 도달하면 구동 모터의 토크를 유지하여 물체가 손상되지 "
            "않도록 한다.",
            "상기 핑거는 실리콘 등의 탄성 소재로 형성되어 물체의 외형을 따라 변형되면서 물체를 감싸 쥔다.",
            "상기 링크 기구는 하나의 구동 모터로 복수의 핑거를 동시에 개폐할 수 있도록 구성된다.",
            "파지 중 물체의 미끄러짐이 감지되면 그리퍼의 파지력을 단계적으로 증가시킨다.",
            "카메라로 촬영한 물체의 형상 정보를 이용하여 최적의 파지 위치와 파지 자세를 결정한다.",
            "진공 패드와 핑거를 함께 사용하여 평판형 물체와 입체형 물체를 모두 파지할 수 있다.",
        ],
        "effects": [
            "이에 따라, 형상과 강도가 서로 다른 다양한 물체를 하나의 그리퍼로 안정적으로 파지할 수 있다.",
            "본 발명에 따르면, 깨지기 쉬운 물체도 손상 없이 이송할 수 있어 물류 자동화에 유용하다.",
            "따라서, 그리퍼의 구조를 단순화하면서도 파지 성능을 향상시킬 수 있는 효과가 있다.",
            "이를 통해 공구 교체 없이 여러 종류의 부품을 처리할 수 있어 생산 라인의 유연성이 높아진다.",
        ],
        "tails": ["", " 및 그 제어 방법", " 및 이를 포함하는 로봇"],
        "ipc": [
            "B25J 15/08",
            "B25J 15/06",
            "B25J 13/08",
            "B25J 9/16",
            "B25J 15/02",
            "B25J 15/12",
            "B25J 19/02",
        ],
        "applicants": [
            ("한국기계연구원", 3),
            ("현대자동차주식회사", 2),
            ("엘지전자 주식회사", 2),
            ("주식회사 윈텍오토메이션", 2),
            ("삼성전자 주식회사", 1),
        ],
    },
    "battery_electrode": {
        "weight": 1.0,
        "subjects": [
            (
                "리튬 이차전지용 양극 및 그 제조 방법",
                "양극",
                ("리튬 이차전지용 양극", "고니켈 양극 활물질을 포함하는 양극"),
            ),
            (
                "실리콘계 음극 활물질을 포함하는 이차전지용 음극",
                "음극",
                ("실리콘계 음극 활물질을 포함하는 음극", "탄소 코팅된 실리콘 음극"),
            ),
            (
                "이차전지 전극의 건식 제조 방법",
                "전극",
                ("이차전지용 건식 전극 필름", "무용매 전극 제조 장치"),
            ),
            (
                "다층 구조의 활물질층을 갖는 이차전지용 전극",
                "전극",
                ("다층 구조의 이차전지 전극", "이차전지용 전극 슬러리 조성물"),
            ),
        ],
        "components": [
            "전극 집전체",
            "상기 전극 집전체의 적어도 일면에 형성되는 활물질층",
            "니켈 함량이 80몰% 이상인 리튬 전이금속 산화물 입자",
            "탄소나노튜브를 포함하는 도전재",
            "활물질 입자들을 서로 결착시키는 바인더",
            "실리콘 산화물과 흑연이 혼합된 음극 활물질",
            "상기 활물질층의 표면에 형성되는 세라믹 코팅층",
        ],
        "features": [
            "실리콘계 활물질의 표면은 탄소 코팅층으로 피복되어 충방전 시 부피 팽창에 의한 균열을 억제한다.",
            "상기 도전재는 활물질층 내에 3차원 도전 네트워크를 형성하여 전극의 저항을 낮춘다.",
            "용매를 사용하지 않고 활물질, 도전재 및 바인더를 건식 혼합한 후 압연하여 전극 필름을 제조한다.",
            "상기 활물질층은 집전체에 가까운 하층과 표면 측의 상층으로 구분되며, 상층의 기공률이 하층보다 "
            "높다.",
            "전극 슬러리는 분산제를 포함하여 고형분 함량이 높은 상태에서도 적정 점도를 유지한다.",
            "압연 공정 후 전극의 밀도는 3.0 내지 3.6 g/cc의 범위로 조절된다.",
        ],
        "effects": [
            "이에 따라, 이차전지의 에너지 밀도와 수명 특성을 동시에 향상시킬 수 있다.",
            "본 발명에 따르면, 급속 충전 시에도 리튬 석출을 억제하여 이차전지의 안전성을 확보할 수 있다.",
            "따라서, 전극 제조 공정의 건조 에너지를 줄이고 생산 비용을 절감할 수 있는 효과가 있다.",
            "이를 통해 고용량 활물질을 사용하면서도 전극의 구조적 안정성을 유지할 수 있다.",
        ],
        "tails": ["", " 및 그 제조 방법", " 및 이를 포함하는 리튬 이차전지"],
        "ipc": [
            "H01M 4/13",
            "H01M 4/139",
            "H01M 4/62",
            "H01M 4/04",
            "H01M 4/36",
            "H01M 4/525",
            "H01M 10/0525",
        ],
        "applicants": [
            ("주식회사 엘지에너지솔루션", 5),
            ("삼성에스디아이 주식회사", 4),
            ("현대자동차주식회사", 1),
        ],
    },
}

STATUS_WEIGHTS = (("등록", 55), ("공개", 27), ("거절", 8), ("취하", 5), (None, 5))
OPENING_SHARE = {"등록": 0.6, "공개": 1.0, "거절": 0.85, "취하": 0.4, None: 0.5}


# --------------------------------------------------------------------------------------
# Korean particles
# --------------------------------------------------------------------------------------


def _has_final(word: str) -> bool:
    """True when the last syllable of *word* has a final consonant (받침)."""
    ch = word.rstrip()[-1]
    if "가" <= ch <= "힣":
        return (ord(ch) - 0xAC00) % 28 != 0
    return ch in "0123456789LMNR"  # good enough for the few non-Hangul endings


def josa(word: str, pair: str) -> str:
    """Attach 은/는, 이/가, 을/를, 과/와 to *word* (pair given as 'with-final/without')."""
    with_final, without = pair.split("/")
    return word + (with_final if _has_final(word) else without)


def listing(items: list[str]) -> str:
    """'A, B 및 C' — the patent way of listing elements."""
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " 및 " + items[-1]


# --------------------------------------------------------------------------------------
# Rows
# --------------------------------------------------------------------------------------


def refer(sentence: str, first: str) -> str:
    """Drop a leading '상기' when what it points back to is not named in the first sentence."""
    if not sentence.startswith("상기 "):
        return sentence
    words = sentence[3:].split(" ")
    for n in range(1, len(words)):
        last = words[n - 1]
        for particle in ("에는", "은", "는", "과", "와", "의"):
            if last.endswith(particle) and len(last) > len(particle):
                referent = " ".join([*words[: n - 1], last[: -len(particle)]])
                return sentence if referent in first else sentence[3:]
    return sentence


def make_text(rng: random.Random, topic: dict) -> tuple[str, str]:
    """(title, abstract) on one subject of *topic*."""
    subject, head, titles = rng.choice(topic["subjects"])
    title = rng.choice(titles) + rng.choice(topic["tails"])
    ref = f"상기 {head}" if head in subject else head
    while True:
        parts = rng.sample(topic["components"], rng.randint(2, 4))
        parts.sort(key=topic["components"].index)  # keep the natural order of the device
        first = (
            f"본 발명은 {subject}에 관한 것으로서, "
            f"{josa(ref, '은/는')} {josa(listing(parts), '을/를')} 포함한다."
        )
        n_features = rng.choices((0, 1, 2, 3), weights=(1, 4, 4, 2))[0]
        features = [refer(f, first) for f in rng.sample(topic["features"], n_features)]
        abstract = " ".join([first, *features, rng.choice(topic["effects"])])
        if 150 <= len(abstract) <= 500:
            return title, abstract


def make_ipc(rng: random.Random, topic: dict) -> str:
    n = rng.choices((1, 2, 3, 4), weights=(25, 35, 25, 15))[0]
    main, rest = topic["ipc"][0], topic["ipc"][1:]
    if rng.random() < 0.3:  # the main group is usually, not always, listed first
        main = rng.choice(rest)
        rest = [c for c in topic["ipc"] if c != main]
    return "|".join([main, *rng.sample(rest, n - 1)])


def ymd(d: dt.date) -> int:
    return int(d.strftime("%Y%m%d"))


def later(rng: random.Random, start: dt.date, lo_days: int, hi_days: int) -> dt.date | None:
    """A date lo..hi days after *start*; when that passes LATEST, any day up to LATEST."""
    d = start + dt.timedelta(days=rng.randint(lo_days, hi_days))
    if d <= LATEST:
        return d
    room = (LATEST - start).days
    return start + dt.timedelta(days=rng.randint(1, room)) if room >= 1 else None


def make_dates(rng: random.Random, status: str | None) -> tuple[dt.date, int | None, int | None]:
    """Filing date, then opening/registration dates (yyyymmdd or None) that fit the status."""
    years = list(range(2010, 2025))
    year = rng.choices(years, weights=[1 + 0.15 * (y - 2010) for y in years])[0]
    filed = dt.date(year, 1, 1) + dt.timedelta(days=rng.randint(0, 364))

    opened = None
    if rng.random() < OPENING_SHARE[status]:
        opened = later(rng, filed, 540, 560)  # published 18 months after filing

    registered = None
    if status == "등록" or (status is None and rng.random() < 0.5):
        if opened is not None:
            registered = later(rng, opened, 90, 600)
        else:
            registered = later(rng, filed, 240, 520)  # registered before publication
    return (
        filed,
        None if opened is None else ymd(opened),
        None if registered is None else ymd(registered),
    )


def build_rows(seed: int = SEED) -> list[tuple]:
    rng = random.Random(seed)
    # topics by quota (proportional to weight), shuffled; row 0 is battery thermal management
    names = list(TOPICS)
    total = sum(TOPICS[n]["weight"] for n in names)
    order = [n for n in names for _ in range(round(TOPICS[n]["weight"] / total * (N_ROWS - 1)))]
    order += rng.choices(names, k=N_ROWS - 1 - len(order))
    order = order[: N_ROWS - 1]
    rng.shuffle(order)
    order.insert(0, "battery_thermal")
    empty_date_rows = set(rng.sample(range(1, N_ROWS), N_ROWS // 20))
    used_numbers: set[str] = set()
    rows = []
    for i in range(N_ROWS):
        topic = TOPICS[order[i]]
        status = "등록" if i == 0 else rng.choices(*zip(*STATUS_WEIGHTS))[0]
        filed, opened, registered = make_dates(rng, status)
        while status == "등록" and registered is None:  # no room left before LATEST: redraw
            filed, opened, registered = make_dates(rng, status)
        while True:
            number = f"10{filed.year}{rng.randint(1, 199_999):07d}"
            if number not in used_numbers:
                used_numbers.add(number)
                break
        applicant = rng.choices(*zip(*topic["applicants"]))[0]
        title, abstract = make_text(rng, topic)
        rows.append(
            (
                number,
                title,
                None if i in EMPTY_ABSTRACT_ROWS else abstract,
                applicant,
                None if i in empty_date_rows else ymd(filed),
                make_ipc(rng, topic),
                opened,
                registered,
                status,
                "KR",
            )
        )
    return rows


def write(path: Path, rows: list[tuple]) -> None:
    wb = Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    ws.append(COLUMNS)
    for row in rows:
        ws.append(row)
    for col, width in zip("ABCDEFGHIJ", (16, 40, 80, 24, 14, 36, 14, 16, 8, 8)):
        ws.column_dimensions[col].width = width
    wb.properties.creator = "patentsim examples/make_example.py"
    wb.properties.created = STAMP
    buf = io.BytesIO()
    wb.save(buf)
    # openpyxl stamps the save time into docProps/core.xml and every zip entry: pin both,
    # so that rerunning the script gives a byte-identical file (no spurious git diff)
    stamp = STAMP.strftime("%Y-%m-%dT%H:%M:%SZ")
    with zipfile.ZipFile(buf) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>" + stamp.encode(), data)
            info = zipfile.ZipInfo(item.filename, date_time=STAMP.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(info, data)


def main(argv: list[str]) -> None:
    out = Path(argv[1]) if len(argv) > 1 else Path(__file__).with_name("patents.xlsx")
    rows = build_rows()
    write(out, rows)
    print(f"wrote {out} ({len(rows)} rows, {out.stat().st_size / 1024:.0f} KB)")


if __name__ == "__main__":
    main(sys.argv)
