"""How well a model reads a collection's text, measured with its own tokenizer.

A model trained on another language does not know its words: its tokenizer maps them to
the unknown token, or breaks them into pieces smaller than letters (the offline English
model decomposes each Hangul syllable into two or three letters, jamo, that are not in
the text at all), or into one piece per letter.  The share of the text's letters in words
read that way says, without the model's name, whether its vectors can tell the texts
apart; ``retrieval.default_mode`` decides the collection's default mode from it.

The sample is taken across every file of a load, the same whatever their order: the texts
whose content hashes are smallest (``TextSample``).
"""

from __future__ import annotations

import hashlib
import heapq
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from .analyzer import WORD, hangul_share

SAMPLE_TEXTS = 300
# Words longer than this are not looked at (codes, chemical names, URLs).
_LONGEST_WORD = 40
_MARKERS = ("##", "▁", "Ġ", "Ċ")

Pieces = Callable[[list[str]], list[list[str]]]


class TextSample:
    """The ``size`` texts with the smallest content hashes among all texts added: the same
    sample whatever the order the texts (files) come in."""

    def __init__(self, size: int = SAMPLE_TEXTS) -> None:
        self.size = size
        self._heap: list[tuple[int, str]] = []  # (-hash, text): the largest hash on top
        self._seen: set[int] = set()

    def add(self, text: str) -> None:
        if not text.strip():
            return
        h = int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "big")
        if h in self._seen:
            return
        if len(self._heap) < self.size:
            heapq.heappush(self._heap, (-h, text))
            self._seen.add(h)
        elif h < -self._heap[0][0]:
            old, _ = heapq.heapreplace(self._heap, (-h, text))
            self._seen.discard(-old)
            self._seen.add(h)

    def texts(self) -> list[str]:
        return [text for _, text in sorted(self._heap, reverse=True)]


@dataclass(frozen=True)
class Coverage:
    """Over a sample's words: letters in all words, and in words the tokenizer reads poorly
    (an unknown piece, pieces not in the word, or a piece per letter)."""

    texts: int
    letters: int
    poor_letters: int

    @property
    def poor_share(self) -> float:
        return self.poor_letters / self.letters if self.letters else 0.0


def letter_count(word: str) -> int:
    """How many letters ``word`` has (digits and marks do not count)."""
    return sum(ch.isalpha() for ch in word)


def _han(word: str) -> bool:
    """Chinese characters: each one a morpheme, so one piece each is a good reading."""
    return all("CJK UNIFIED" in unicodedata.name(ch, "") for ch in word if ch.isalpha())


def reads_poorly(word: str, pieces: Sequence[str], unk: str | None) -> bool:
    """Whether the tokenizer read ``word`` as ``pieces`` poorly: an unknown piece, pieces not
    in the word, or a piece per letter."""
    if not pieces:
        return True
    if unk and unk in pieces:
        return True
    folded = unicodedata.normalize("NFKC", word).lower()
    for piece in pieces:
        bare = piece
        for marker in _MARKERS:
            bare = bare.replace(marker, "")
        if bare and bare.lower() not in folded:
            return True  # the tokenizer rewrote the word into smaller units (Hangul -> jamo)
    n = letter_count(word)
    return n >= 3 and len(pieces) >= n and not _han(word)


def measure(texts: Iterable[str], pieces: Pieces, unk: str | None) -> Coverage:
    """The share of letters in words the tokenizer reads poorly, over ``texts``."""
    counts: dict[str, int] = {}
    n_texts = 0
    for text in texts:
        n_texts += 1
        for word in WORD.findall(text):
            if len(word) <= _LONGEST_WORD and letter_count(word) >= 2:
                counts[word] = counts.get(word, 0) + 1
    words = list(counts)
    letters = poor = 0
    for word, word_pieces in zip(words, pieces(words) if words else []):
        n = letter_count(word) * counts[word]
        letters += n
        if reads_poorly(word, word_pieces, unk):
            poor += n
    return Coverage(n_texts, letters, poor)


def language_share(texts: Sequence[str]) -> float:
    """The share of the sample's letters that are Hangul."""
    return hangul_share(texts)
