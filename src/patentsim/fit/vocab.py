"""New tokens, before tuning, for the words of the text that the base model reads poorly.

A model trained on another language breaks the words of the text into pieces that are not
words of it (the offline English model breaks each Hangul syllable into two or three
letters, jamo, that the text does not contain): every word becomes a long run of pieces it
shares with every other word, and the model's window holds a fraction of the text.  Tuning
moves the pieces' vectors but cannot give a word a meaning of its own.  Adding the training
documents' frequent words that the tokenizer reads poorly (``embed.coverage``) as tokens of
their own, each starting at the mean of its old pieces' vectors, gives the tuning one vector
per word to learn and shortens the text (measured in BENCHMARKS.md, "Fit the model to the
data").

The words are the analyzer's: for Hangul, the surfaces of MeCab-ko's words and of their
morphemes where the text contains them as written (the tokenizer finds a token in the
text, not a dictionary form); elsewhere the text's words.  Only words in at least
``MIN_DOCUMENTS`` training documents count, most frequent first (the held-out documents
are never looked at).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from ..embed.analyzer import WORD, hangul_share, tokens
from ..embed.coverage import letter_count, reads_poorly

MIN_DOCUMENTS = 2  # a word of one document teaches nothing about two
MIN_LETTERS = 2  # single letters would split every other word that contains them

Pieces = Callable[[str], Sequence[str]]


def words_of(text: str) -> set[str]:
    """The candidate words of one text (each once)."""
    out: set[str] = set()
    if hangul_share([text]) > 0:
        for surface, parts in tokens(text):
            out.update(c for c in (surface, *(s for s, _ in parts)) if c and c in surface)
    else:
        out.update(WORD.findall(text))
    return {w for w in out if letter_count(w) >= MIN_LETTERS and WORD.fullmatch(w)}


def poorly_read_words(
    texts: Iterable[str], pieces: Pieces, unk: str | None, limit: int
) -> tuple[list[str], int]:
    """Up to ``limit`` of the words the tokenizer reads poorly, in at least
    ``MIN_DOCUMENTS`` of ``texts``, most frequent first; and how many such words there were."""
    documents: Counter[str] = Counter()
    for text in texts:
        documents.update(words_of(text))
    # Most frequent first, ties in code-point order: the same words for the same texts.
    ranked = sorted(documents.items(), key=lambda item: (-item[1], item[0]))
    frequent = [w for w, n in ranked if n >= MIN_DOCUMENTS]
    poor = [w for w in frequent if reads_poorly(w, pieces(w), unk)]
    return poor[:limit], len(poor)


def add_tokens(model: Any, words: Sequence[str]) -> int:
    """Add ``words`` to a sentence-transformers model's tokenizer and embedding table, each
    new row the mean of the rows of the pieces the word was read as; the count added."""
    import torch

    tokenizer = model.tokenizer
    old_pieces = [tokenizer(w, add_special_tokens=False)["input_ids"] for w in words]
    added = int(tokenizer.add_tokens(list(words)))
    if not added:
        return 0
    transformer = model[0].auto_model
    transformer.resize_token_embeddings(len(tokenizer), mean_resizing=False)
    table = transformer.get_input_embeddings().weight
    with torch.no_grad():
        fallback = table[: len(tokenizer) - added].mean(dim=0)
        for word, ids in zip(words, old_pieces):
            row = tokenizer.convert_tokens_to_ids(word)
            if row is None or row < len(tokenizer) - added:
                continue  # the tokenizer had it already (a case or accent variant)
            table[row] = table[ids].mean(dim=0) if ids else fallback
    return added
