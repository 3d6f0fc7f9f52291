"""A fixture of patent families from real rows: each invention published two to four times.

The inventions are real abstracts of ``patents_nvidia.xlsx``: every distinct text once, and
of the rows that are textual copies of another (continuations: word trigrams shared, Jaccard
>= ``COPY_JACCARD``) only the first, since they are one invention whose family the file does
not say.  The distinct inventions are split in two seeded halves (one to choose thresholds
on, one to report on); in each, ``FAMILIES`` inventions get a family of 2-4 publications and
the rest stay single documents beside them:

- the application (``...A1``): the abstract as it is;
- the grant (``...B2``): a couple of words reworded, as claims amendments do;
- a European filing (``EP...A1``): British spellings, reworded phrases, another opening;
- a filing translated back from another language (``CN...A``), standing in for a
  translation (no translation model runs here): many phrases reworded, articles dropped,
  the last sentence moved first, one sentence left out of a long abstract.

The edits are rules applied with a seeded random generator per family (``edit``), so the
fixture is the same on every run.  Every publication of a family claims the same priority
number (``priority_numbers``), and the single documents their own.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

SEED = 30
FAMILIES = 500  # per half
COPY_JACCARD = 0.5
# Member counts of a family and how often each comes.
SIZES = (2, 3, 4)
SIZE_WEIGHTS = (0.4, 0.35, 0.25)
KINDS = ("grant", "ep", "translated")

# Phrases as a grant, another office or a translation words them otherwise.
REWORDINGS = (
    ("a plurality of", "multiple"),
    ("comprises", "includes"),
    ("comprising", "including"),
    ("configured to", "adapted to"),
    ("based on", "on the basis of"),
    ("in response to", "responsive to"),
    ("one or more", "at least one"),
    ("determines", "ascertains"),
    ("determining", "ascertaining"),
    ("determined", "ascertained"),
    ("generates", "produces"),
    ("generating", "producing"),
    ("generated", "produced"),
    ("receives", "obtains"),
    ("receiving", "obtaining"),
    ("received", "obtained"),
    ("provides", "supplies"),
    ("providing", "supplying"),
    ("using", "employing"),
    ("wherein", "where"),
    ("associated with", "related to"),
    ("such as", "for example"),
    ("device", "apparatus"),
    ("method", "process"),
    ("data", "information"),
    ("processor", "processing unit"),
    ("embodiments", "implementations"),
    ("techniques", "approaches"),
    ("disclosed", "described"),
    ("performs", "carries out"),
)
BRITISH = (
    (r"\b(\w{3,})iz(e|es|ed|ing|ation|ations|er|ers)\b", r"\1is\2"),
    (r"\bcolor", "colour"),
    (r"\bbehavior", "behaviour"),
    (r"\banalyz", "analys"),
    (r"\bcenter", "centre"),
    (r"\bmodeling\b", "modelling"),
    (r"\bsignaling\b", "signalling"),
)
OPENINGS = (
    (r"^Embodiments of the present (invention|disclosure)", "The present disclosure"),
    (r"^In at least one embodiment,?", "In one embodiment,"),
    (r"^Systems and methods", "Methods and systems"),
    (r"^A method", "Method"),
    (r"^An? ", "The invention relates to a "),
)


@dataclass
class Fixture:
    """One half's rows (the file to load) and each row's invention."""

    rows: list[dict[str, Any]]
    family_of: dict[str, int]  # publication number -> invention
    families: int
    singles: int

    def pairs(self) -> set[tuple[str, str]]:
        """The pairs of publications of one invention."""
        by: dict[int, list[str]] = {}
        for key, fam in self.family_of.items():
            by.setdefault(fam, []).append(key)
        out = set()
        for keys in by.values():
            keys.sort()
            out.update((a, b) for i, a in enumerate(keys) for b in keys[i + 1 :])
        return out


def _shingles(text: str) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", text.lower())
    return {tuple(words[i : i + 3]) for i in range(len(words) - 2)}


def distinct_inventions(docs: Sequence[dict[str, Any]], vectors: np.ndarray) -> list[int]:
    """Indexes of the documents kept as inventions: each text once, textual copies left out.
    Copies are looked for among the pairs whose vectors are close (cosine >= 0.8), where
    every pair sharing half its trigrams lies."""
    seen: set[str] = set()
    first = []
    for i, d in enumerate(docs):
        text = " ".join(str(d["abstract"]).split()).lower()
        if text not in seen:
            seen.add(text)
            first.append(i)
    x = vectors[first]
    shingles = [_shingles(str(docs[i]["abstract"])) for i in first]
    dropped: set[int] = set()
    for a in range(len(first)):
        if a in dropped:
            continue
        close = np.nonzero(x[a + 1 :] @ x[a] >= 0.8)[0] + a + 1
        for b in close.tolist():
            if b in dropped:
                continue
            union = len(shingles[a] | shingles[b]) or 1
            if len(shingles[a] & shingles[b]) / union >= COPY_JACCARD:
                dropped.add(b)
    return [first[a] for a in range(len(first)) if a not in dropped]


def _reword(text: str, rng: random.Random, how_many: int) -> str:
    present = [
        (a, b) for a, b in REWORDINGS if re.search(rf"\b{re.escape(a)}\b", text, re.IGNORECASE)
    ]
    rng.shuffle(present)
    for a, b in present[:how_many]:
        pattern = re.compile(rf"\b{re.escape(a)}\b", re.IGNORECASE)
        text = pattern.sub(lambda m, b=b: b.capitalize() if m.group(0)[0].isupper() else b, text)
    return text


def _british(text: str) -> str:
    for pattern, repl in BRITISH:
        text = re.sub(pattern, repl, text)
    return text


def _opening(text: str) -> str:
    for pattern, repl in OPENINGS:
        new = re.sub(pattern, repl, text, count=1)
        if new != text:
            return new
    return text


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.;])\s+", text.strip()) if s]


def edit(text: str, kind: str, rng: random.Random) -> str:
    """The abstract as publication ``kind`` words it (see the module's docstring)."""
    text = " ".join(text.split())
    if kind == "grant":
        return _reword(text, rng, 2)
    if kind == "ep":
        return _opening(_british(_reword(text, rng, 5)))
    sentences = _sentences(_british(_reword(text, rng, len(REWORDINGS))))
    if len(sentences) >= 4:
        del sentences[rng.randrange(1, len(sentences) - 1)]
    if len(sentences) >= 2:
        sentences = [sentences[-1], *sentences[:-1]]
    words = " ".join(sentences).split(" ")
    kept = [w for w in words if not (w.lower() in ("the", "a", "an") and rng.random() < 0.4)]
    return " ".join(kept)


def halves(inventions: Sequence[int], seed: int = SEED) -> tuple[list[int], list[int]]:
    order = list(inventions)
    random.Random(seed).shuffle(order)
    mid = len(order) // 2
    return sorted(order[:mid]), sorted(order[mid:])


def build(
    docs: Sequence[dict[str, Any]], chosen: Sequence[int], seed: int, families: int = FAMILIES
) -> Fixture:
    """One half: ``families`` of its inventions published 2-4 times, the others once."""
    rng = random.Random(seed)
    with_family = set(rng.sample(list(chosen), min(families, len(chosen))))
    rows: list[dict[str, Any]] = []
    family_of: dict[str, int] = {}
    for i in chosen:
        d = docs[i]
        base = {
            "assignee": d.get("assignee"),
            "cpc": d.get("cpc"),
            "grant_date": d.get("grant_date"),
            "priority_numbers": f"US{62_000_000 + i}",
        }
        abstract = " ".join(str(d["abstract"]).split())
        title = str(d.get("title") or "")
        first = f"{d['doc_id']}A1"
        rows.append(dict(base, publication_number=first, title=title, abstract=abstract))
        family_of[first] = i
        if i not in with_family:
            continue
        own = random.Random(f"{seed}:{i}")
        size = own.choices(SIZES, SIZE_WEIGHTS)[0]
        for kind in sorted(own.sample(KINDS, size - 1), key=KINDS.index):
            key = {
                "grant": f"{d['doc_id']}B2",
                "ep": f"EP{3_000_000 + i}A1",
                "translated": f"CN{110_000_000 + i}A",
            }[kind]
            text = edit(abstract, kind, own)
            name = title.upper() if kind == "ep" else _reword(title, own, 2) or title
            rows.append(dict(base, publication_number=key, title=name, abstract=text))
            family_of[key] = i
    return Fixture(rows, family_of, len(with_family), len(chosen) - len(with_family))
