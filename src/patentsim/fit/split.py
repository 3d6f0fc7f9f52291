"""The honest split: a seeded share of the documents held out, never seen in training.

Documents with the same text (continuations and divisionals often repeat an abstract word
for word) go to the same side, so a held-out document is never one whose text was trained
on under another number.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import UserInputError, setting
from .documents import Document


@dataclass
class Split:
    train: list[int]  # indices into the documents
    held_out: list[int]
    text_groups: list[int]  # per document: the same number for the same text
    repeated_texts: int  # documents whose text another document has too

    def describe(self, share: float, seed: int) -> dict[str, object]:
        return {
            "held_out_share": share,
            "seed": seed,
            "train": len(self.train),
            "held_out": len(self.held_out),
            "documents_with_repeated_text": self.repeated_texts,
            "rule": "seeded; documents with the same text on the same side",
        }


def text_key(text: str) -> str:
    return " ".join(text.lower().split())


def holdout_split(documents: Sequence[Document], share: float, seed: int) -> Split:
    """Hold out about ``share`` of the documents (whole groups of identical texts), seeded."""
    if not 0 < share < 1:
        raise UserInputError(f"{setting('holdout')} must be between 0 and 1, not {share}")
    ids: dict[str, int] = {}
    groups = [ids.setdefault(text_key(d.text), len(ids)) for d in documents]
    members: dict[int, list[int]] = {}
    for i, g in enumerate(groups):
        members.setdefault(g, []).append(i)
    order = list(members)
    random.Random(seed).shuffle(order)
    want = round(share * len(documents))
    held: list[int] = []
    for g in order:
        if len(held) >= want:
            break
        held.extend(members[g])
    held_set = set(held)
    train = [i for i in range(len(documents)) if i not in held_set]
    if len(train) < 2 or len(held) < 2:
        raise UserInputError(
            f"{len(documents)} documents split {len(train)} / {len(held)}: too few on one side",
            f"use more labelled documents, or another {setting('holdout')}",
        )
    repeated = sum(len(m) for m in members.values() if len(m) > 1)
    return Split(train, sorted(held), groups, repeated)
