"""A constructed collection with known topics, for the map, cluster and explain tests.

Three topics with words of their own (two English, one Korean), twelve documents each;
every abstract draws seven words of its topic (seeded) and adds words all topics share.
The fake embedder (a bag of hashed words) then places documents of one topic close
together, so a clustering that works recovers the topics exactly.
"""

from __future__ import annotations

import random
from pathlib import Path

TOPICS = {
    "battery": (
        "battery cooling plate coolant thermal cell pack heat radiator pump temperature",
        "H01M 10/613",
        "Battery Corp",
    ),
    "wafer": (
        "semiconductor wafer polishing pad slurry substrate grinding chuck spindle dresser",
        "H01L 21/304",
        "Wafer Inc",
    ),
    "lidar": (
        "라이다 센서 차량 주행 객체 인식 카메라 융합 도로 보행자",
        "G01S 17/93",
        "차량전자 주식회사",
    ),
}
PER_TOPIC = 12
SHARED = "system method device apparatus"


def topic_rows(per_topic: int = PER_TOPIC, start: int = 0) -> list[dict]:
    """Rows of ``per_topic`` documents per topic (keys from ``start``), with their topic."""
    rng = random.Random(7)
    rows = []
    n = start
    for topic, (words, ipc, applicant) in TOPICS.items():
        vocabulary = words.split()
        for i in range(per_topic):
            picked = rng.sample(vocabulary, 7)
            rows.append(
                {
                    "id": f"D{n:03d}",
                    "title": f"{topic} {i}: " + " ".join(picked[:3]),
                    "abstract": " ".join(picked) + " " + SHARED,
                    "applicant": applicant,
                    "ipc": f"{ipc}|{ipc[:4]} 99/00",
                    "filing_date": f"{2010 + i % 5}-03-01",
                    "topic": topic,
                }
            )
            n += 1
    return rows


def write_topics(path: Path, rows: list[dict]) -> Path:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    headers = ["id", "title", "abstract", "applicant", "ipc", "filing_date", "topic"]
    ws.append(headers)
    for row in rows:
        ws.append([row[h] for h in headers])
    wb.save(path)
    return path
