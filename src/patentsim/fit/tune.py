"""``ingest tune``: fine-tune a sentence-transformers model on the documents' own labels.

1. The labelled documents (a file, or a collection's payload) are split: a seeded share is
   held out (documents with the same text on the same side) and never seen in training.
2. The base model embeds the held-out documents; ``measure`` gives their P@10 per level
   and MRR@10 per mode, every held-out document a query among the other held-out ones.
3. Training, one of two losses of sentence-transformers, in a plain torch loop:

   * ``triplet`` (``TripletLoss``, cosine distance): anchor, a positive sharing a label at
     ``level``, and a **semi-hard** negative sharing no label, mined from the current
     model's vectors at the start of every epoch (``mining.mine_triplets``);
   * ``mnrl`` (``MultipleNegativesRankingLoss``): (anchor, positive) pairs, every other
     positive of the batch a negative, except those sharing a label or the text with the
     anchor (their similarity is masked out: they are not negatives);
   * ``mnrl-mined``: both, (anchor, positive, semi-hard negative) triples mined each epoch as
     for ``triplet``, and every other positive and negative of the batch a negative too;
   * ``supcon`` (``fit.contrastive``): the (anchor, positive) pairs' documents form the
     batch; each is an anchor with every batch document sharing a code a positive, at the
     tuning level and at the subclass (IPC/CPC labels), nothing masked.

   The loop, not ``SentenceTransformer.fit``/the Trainer: no ``datasets``/``accelerate``
   dependencies, the example order and dropout come from one seed (the CPU run repeats
   exactly), mining happens between epochs, and progress with an ETA goes to the caller.
   On CUDA it runs in mixed precision (bf16 where the GPU has it, else fp16 with a loss
   scaler).
4. The tuned model embeds the same held-out documents and is measured the same way.
5. It is saved as an ordinary sentence-transformers folder with a model card (README.md)
   and ``patentsim_tuning.json``: base model, data, label, level, loss, epochs, split and the
   held-out figures.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import random
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import PatentSimError, UserInputError, setting
from ..search.eval import LEVELS, EvalRow
from ..store import StoreSettings
from ..store.backend import Store
from .documents import Corpus, Document, Reading, check_level, read_corpus
from .mining import LabelIndex, batch_relations, in_batch_mask, mine_triplets, pairs
from .split import holdout_split

LOSSES = ("triplet", "mnrl", "mnrl-mined", "supcon")
MINED = ("triplet", "mnrl-mined")  # the losses that mine a semi-hard negative every epoch
PRECISIONS = ("auto", "fp32", "fp16", "bf16")
DEFAULT_MARGIN = 0.2  # cosine distance; the semi-hard band and the triplet loss's margin
DEFAULT_LEARNING_RATE = 5e-5
WARMUP_SHARE = 0.1
MAX_GRAD_NORM = 1.0
ENCODE_BATCH = 16  # small batches embed fastest on a CPU (sorted by length first)

ProgressFn = Callable[[int, int], None]
LogFn = Callable[[str], None]


class TuneFailed(PatentSimError):
    """Tuning could not run or its result could not be written."""


@dataclass(frozen=True)
class TuneOptions:
    """The choices of one tuning run; ``tune``'s keyword arguments of the same names."""

    level: str = "group"
    loss: str = "triplet"
    epochs: int = 1
    batch_size: int = 32
    max_seq_length: int | None = None  # None: the base model's window
    seed: int = 0
    holdout: float = 0.2
    margin: float = DEFAULT_MARGIN
    learning_rate: float = DEFAULT_LEARNING_RATE
    device: str = "auto"
    precision: str = "auto"
    new_tokens: int = 0  # words the base reads poorly added as tokens (``fit.vocab``)
    # Negatives share no code at this level; None: nothing in common (the subclass) for
    # IPC/CPC labels, else the tuning level.
    negative_level: str | None = None
    # Also train each training document's title to find its text (in-batch negatives): the
    # short `search text` queries that abstract-to-abstract tuning alone makes worse.
    titles: bool = False

    def check(self) -> None:
        check_level(self.level)
        if self.negative_level is not None:
            check_level(self.negative_level)
            if LEVELS.index(self.negative_level) > LEVELS.index(self.level):
                raise UserInputError(
                    f"{setting('negative_level')} {self.negative_level!r} is finer than "
                    f"{setting('level')} {self.level!r}: a negative could then share the "
                    "positive's label",
                    f"choose {setting('negative_level')} {self.level} or a coarser one",
                )
        if self.loss not in LOSSES:
            raise UserInputError(
                f"{setting('loss')} must be one of {', '.join(LOSSES)}, not {self.loss!r}"
            )
        if self.precision not in PRECISIONS:
            raise UserInputError(
                f"{setting('precision')} must be one of {', '.join(PRECISIONS)}, "
                f"not {self.precision!r}"
            )
        for name, value, least in (("epochs", self.epochs, 1), ("batch_size", self.batch_size, 2)):
            if value < least:
                raise UserInputError(f"{setting(name)} must be at least {least}, not {value}")
        if self.max_seq_length is not None and self.max_seq_length < 8:
            raise UserInputError(
                f"{setting('max_seq_length')} must be at least 8, not {self.max_seq_length}"
            )
        if not 0 < self.margin < 2:
            raise UserInputError(f"{setting('margin')} must be between 0 and 2, not {self.margin}")
        if self.new_tokens < 0:
            raise UserInputError(
                f"{setting('new_tokens')} must be 0 or more, not {self.new_tokens}"
            )
        if not 0 < self.learning_rate < 1:
            raise UserInputError(
                f"{setting('learning_rate')} must be between 0 and 1, not {self.learning_rate}"
            )


@dataclass
class EpochLog:
    epoch: int
    examples: int
    loss: float
    seconds: float
    mining: dict[str, int] = field(default_factory=dict)
    mining_seconds: float = 0.0
    texts: int = 0  # texts through the forward and backward passes


@dataclass
class TuneReport:
    output: str
    base: dict[str, Any]  # name, folder fingerprint, window
    source: str
    label: str
    options: dict[str, Any]
    split: dict[str, Any]
    device: str
    precision: str
    before: list[EvalRow] = field(default_factory=list)
    after: list[EvalRow] = field(default_factory=list)
    epochs: list[EpochLog] = field(default_factory=list)
    negative_level: str = "subclass"
    train_seconds: float = 0.0
    train_cpu_seconds: float = 0.0  # CPU time of the process's threads while training
    seconds: float = 0.0
    train_texts_per_second: float = 0.0
    tool_version: str = ""
    # Words added to the tokenizer before training (``fit.vocab``), and why.
    vocabulary: dict[str, Any] = field(default_factory=dict)
    # The documents' keys on each side of the split (in the model's folder, not in to_dict).
    keys: dict[str, list[str]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out.pop("keys")
        out["before"] = [r.to_dict() for r in self.before]
        out["after"] = [r.to_dict() for r in self.after]
        return out

    def figure(self, rows: list[EvalRow], mode: str, level: str) -> float | None:
        return next((r.precision for r in rows if r.mode == mode and r.level == level), None)


def tune(
    label: str,
    *,
    output: str | Path,
    source: str | Path | Sequence[str | Path] | None = None,
    collection: str | None = None,
    base: str | None = None,
    options: TuneOptions | None = None,
    overwrite: bool = False,
    reading: Reading | None = None,
    settings: StoreSettings | None = None,
    store: Store | None = None,
    progress: ProgressFn | None = None,
    log: LogFn | None = None,
    corpus: Corpus | None = None,
    before: list[EvalRow] | None = None,
    train_share: float = 1.0,
) -> TuneReport:
    """Fine-tune ``base`` (default: the collection's model) on the labels of ``source``
    (files) or of the collection; write the tuned model to ``output``.

    ``corpus``: the documents, read already; ``before``: the base model's held-out figures,
    measured already on the same documents, split, seed and base (benchmarks reuse them);
    ``train_share``: train on a seeded share of the training side only, the held-out side
    unchanged (the benchmarks' learning curve).
    """
    from .. import __version__

    started = time.perf_counter()
    opts = options or TuneOptions()
    opts.check()
    out = Path(output).expanduser()
    _check_output(out, overwrite)
    say = log or (lambda _msg: None)
    if corpus is None:
        corpus = read_corpus(
            label,
            source=source,
            collection=collection,
            reading=reading,
            settings=settings,
            store=store,
        )
    base_name = base or _collection_model(source, collection, settings, store)
    docs = corpus.documents
    split = holdout_split(docs, opts.holdout, opts.seed)
    if not 0 < train_share <= 1:
        raise UserInputError(f"the training share must be in (0, 1], not {train_share}")
    if train_share < 1:
        kept = round(train_share * len(split.train))
        split.train = sorted(random.Random(opts.seed + 1).sample(split.train, max(2, kept)))
    if opts.titles and sum(1 for i in split.train if docs[i].title) < 2:
        # Checked before the base model is loaded and measured (minutes), not after.
        raise UserInputError(
            f"{setting('titles')}: fewer than 2 training documents have a title",
            "load the file with its title column, or leave the option out",
        )
    negative_level = opts.negative_level or ("subclass" if corpus.classification() else opts.level)
    say(
        f"{len(docs):,} labelled documents from {corpus.source}"
        + (f" ({corpus.unlabelled:,} without a label left out)" if corpus.unlabelled else "")
        + f": {len(split.train):,} to train on, {len(split.held_out):,} held out"
    )
    trainer = _Trainer(base_name, opts, say)
    held = [docs[i] for i in split.held_out]
    report = TuneReport(
        output=str(out.resolve()),
        base=trainer.base_info(),
        source=corpus.source,
        label=corpus.label,
        options=dataclasses.asdict(opts),
        split=split.describe(opts.holdout, opts.seed),
        device=trainer.device,
        precision=trainer.precision,
        negative_level=negative_level,
        tool_version=__version__,
    )
    report.split["unlabelled"] = corpus.unlabelled
    if train_share < 1:
        report.split["train_share"] = train_share
    report.keys = {
        "train": [docs[i].key for i in split.train],
        "held_out": [docs[i].key for i in split.held_out],
    }
    if before is None:
        say(f"measuring the base model on the {len(held):,} held-out documents")
        before = trainer.measure(held, trainer.base_info())
    report.before = before
    trainer.set_window(opts.max_seq_length)
    train_docs = [docs[i] for i in split.train]
    report.vocabulary = trainer.extend_vocabulary([d.text for d in train_docs], opts.new_tokens)
    train_groups = [split.text_groups[i] for i in split.train]
    began, cpu = time.perf_counter(), time.process_time()
    report.epochs = trainer.train(
        train_docs, train_groups, opts.level, negative_level, progress=progress
    )
    report.train_seconds = round(time.perf_counter() - began, 1)
    report.train_cpu_seconds = round(time.process_time() - cpu, 1)
    texts = sum(e.texts for e in report.epochs)
    training_only = report.train_seconds - sum(e.mining_seconds for e in report.epochs)
    report.train_texts_per_second = round(texts / max(training_only, 1e-9), 2)
    tmp = trainer.save(out)
    try:
        say(f"measuring the tuned model on the {len(held):,} held-out documents")
        report.after = trainer.measure(held, trainer.folder_info(tmp))
        report.seconds = round(time.perf_counter() - started, 1)
        from .card import write_card

        write_card(tmp, report)
        _move_into_place(tmp, out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return report


def _check_output(out: Path, overwrite: bool) -> None:
    if out.exists() and not out.is_dir():
        raise UserInputError(f"{setting('output')} {out} is a file, not a folder")
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise UserInputError(
            f"{setting('output')} {out} is not empty",
            f"choose another folder, or {setting('overwrite')} to replace it",
        )
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise TuneFailed(f"cannot create {out.parent}: {exc.strerror}") from exc
    if not os.access(out.parent, os.W_OK):
        raise TuneFailed(f"cannot write to {out.parent}")


def _move_into_place(tmp: Path, out: Path) -> None:
    if out.exists():
        shutil.rmtree(out)
    os.replace(tmp, out)


def _collection_model(
    source: Any, collection: str | None, settings: StoreSettings | None, store: Store | None
) -> str:
    """The model to start from without ``base``: the collection's, else the default."""
    from ..embed.model import DEFAULT_MODEL

    if source is not None:
        return DEFAULT_MODEL
    from ..search.session import Session

    with Session(settings, collection, store=store) as session:
        model = session.open().model
        return model.name if model is not None and model.name else DEFAULT_MODEL


def amp_dtype(device: str, precision: str, *, bf16_supported: bool | None = None) -> str | None:
    """The autocast dtype of a run: None (fp32), "bfloat16" or "float16".

    ``auto``: mixed precision on CUDA (bf16 where the GPU supports it, else fp16), fp32
    elsewhere; an explicit choice is taken as given (bf16/fp16 autocast also runs on a CPU).
    """
    if precision == "fp32":
        return None
    if precision == "bf16":
        return "bfloat16"
    if precision == "fp16":
        return "float16"
    if not device.startswith("cuda"):
        return None
    if bf16_supported is None:
        import torch

        bf16_supported = bool(torch.cuda.is_bf16_supported())
    return "bfloat16" if bf16_supported else "float16"


class MaskedCosine:
    """Cosine similarity for ``MultipleNegativesRankingLoss`` with in-batch false negatives
    masked out: ``mask`` (set per batch) marks the candidates that share a label with the
    anchor; their similarity becomes -inf, so they are no negatives."""

    __name__ = "masked_cos_sim"

    def __init__(self) -> None:
        self.mask: Any = None

    def __call__(self, a: Any, b: Any) -> Any:
        from sentence_transformers.util import cos_sim

        scores = cos_sim(a, b)
        if self.mask is not None and tuple(scores.shape) == tuple(self.mask.shape):
            scores = scores.masked_fill(self.mask, float("-inf"))
        return scores


class _Trainer:
    """The base model, loaded for training, and the loop around it."""

    def __init__(self, base: str, opts: TuneOptions, say: LogFn) -> None:
        from ..embed.embedder import EmbedderConfig
        from ..embed.model import _quiet_libraries, fingerprint, pick_device

        self.opts = opts
        self.say = say
        config = EmbedderConfig.choose(base, device=opts.device)
        self.spec = config.model
        self.device = pick_device(opts.device)
        dtype = amp_dtype(self.device, opts.precision)
        self.precision = {None: "fp32", "bfloat16": "bf16", "float16": "fp16"}[dtype]
        self._amp = dtype
        _quiet_libraries()
        if self.spec.local:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import torch
        from sentence_transformers import SentenceTransformer

        torch.manual_seed(opts.seed)
        kwargs: dict[str, Any] = {"device": self.device}
        if self.spec.local:
            kwargs["local_files_only"] = True
        try:
            self.model = SentenceTransformer(self.spec.source, **kwargs)
        except (OSError, ValueError) as exc:
            from ..errors import ModelUnavailable

            raise ModelUnavailable(
                f"model '{self.spec.name}' cannot be loaded: {str(exc).splitlines()[0]}",
                f"check {setting('base')}",
            ) from exc
        folder = config.folder
        self.base_print = fingerprint(folder) if folder is not None else self.spec.name
        self.base_window = int(self.model.max_seq_length or 0)

    # -- identity --------------------------------------------------------------------------
    def _dimension(self) -> int:
        get_dim = getattr(self.model, "get_embedding_dimension", None) or (
            self.model.get_sentence_embedding_dimension
        )
        return int(get_dim() or 0)

    def base_info(self) -> dict[str, Any]:
        return {
            "name": self.spec.name,
            "fingerprint": self.base_print,
            "dimension": self._dimension(),
            "max_seq_length": self.base_window,
        }

    def folder_info(self, folder: Path) -> dict[str, Any]:
        from ..embed.model import fingerprint

        return {
            "name": str(folder),
            "fingerprint": fingerprint(folder),
            "dimension": self._dimension(),
            "max_seq_length": int(self.model.max_seq_length or 0),
        }

    def set_window(self, max_seq_length: int | None) -> None:
        if max_seq_length is not None:
            self.model.max_seq_length = int(max_seq_length)

    def extend_vocabulary(self, texts: list[str], new_tokens: int) -> dict[str, Any]:
        """Add up to ``new_tokens`` of the training texts' frequent words that the base
        tokenizer reads poorly as tokens (``fit.vocab``); the record says what was added and
        how poorly the base read the text (not measured when nothing is to be added)."""
        record: dict[str, Any] = {"limit": new_tokens, "added": 0}
        if new_tokens == 0:
            return record
        from ..embed.coverage import measure as coverage
        from .vocab import add_tokens, poorly_read_words

        tokenizer = self.model.tokenizer
        unk = getattr(tokenizer, "unk_token", None)
        share = coverage(texts, lambda ws: [tokenizer.tokenize(w) for w in ws], unk).poor_share
        record["poor_share"] = round(share, 4)
        words, found = poorly_read_words(texts, tokenizer.tokenize, unk, new_tokens)
        record["candidates"] = found
        record["added"] = add_tokens(self.model, words)
        record["examples"] = words[:12]
        self.say(
            f"the base model reads {share:.0%} of the training text's letters poorly: "
            f"{record['added']:,} of its {found:,} frequent words read that way added as tokens"
        )
        return record

    # -- embedding and measuring -------------------------------------------------------------
    def encode(self, texts: list[str], *, query: bool = False) -> Any:
        import numpy as np
        import torch

        self.model.eval()
        prompts = getattr(self.model, "prompts", None) or {}
        kwargs: dict[str, Any] = {"prompt_name": "query"} if query and "query" in prompts else {}
        with torch.no_grad():
            vectors = self.model.encode(
                texts,
                batch_size=ENCODE_BATCH if self.device == "cpu" else 4 * ENCODE_BATCH,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
                **kwargs,
            )
        return np.asarray(vectors, dtype=np.float32)

    def measure(self, held: list[Document], info: dict[str, Any]) -> list[EvalRow]:
        from .measure import Lookup, measure

        began = time.perf_counter()
        texts = [d.text for d in held]
        titles = [d.title for d in held if d.title]
        lookup = Lookup(
            info,
            dict(zip(texts, self.encode(texts))),
            dict(zip(titles, self.encode(titles, query=True))) if titles else {},
        )
        rows = measure(held, lookup)
        self.say(
            f"  measured in {time.perf_counter() - began:.0f} s: "
            + ", ".join(f"{r.mode} {r.level} {r.precision:.3f}" for r in rows)
        )
        return rows

    # -- training -----------------------------------------------------------------------------
    def train(
        self,
        docs: list[Document],
        text_groups: list[int],
        level: str,
        negative_level: str,
        *,
        progress: ProgressFn | None = None,
    ) -> list[EpochLog]:
        import importlib

        import torch

        try:  # sentence-transformers 6 moved the losses; 3 to 5 have them here only
            st_losses: Any = importlib.import_module(
                "sentence_transformers.sentence_transformer.losses"
            )
        except ImportError:
            st_losses = importlib.import_module("sentence_transformers.losses")
        MultipleNegativesRankingLoss = st_losses.MultipleNegativesRankingLoss
        TripletDistanceMetric = st_losses.TripletDistanceMetric
        TripletLoss = st_losses.TripletLoss

        opts = self.opts
        rng = random.Random(opts.seed)
        torch.manual_seed(opts.seed)
        if self.device == "cpu":
            torch.use_deterministic_algorithms(True, warn_only=True)
        positives = LabelIndex([d.codes(level) for d in docs])
        negatives = LabelIndex([d.codes(negative_level) for d in docs])
        masked = MaskedCosine()
        supcon: Any = None
        if opts.loss == "supcon":
            from .contrastive import SupervisedContrastive

            levels = [positives] + ([negatives] if negative_level != level else [])
            supcon = SupervisedContrastive(self.model)
            loss_fn: Any = supcon
        elif opts.loss == "triplet":
            loss_fn = TripletLoss(
                self.model,
                distance_metric=TripletDistanceMetric.COSINE,
                triplet_margin=opts.margin,
            )
        else:
            loss_fn = MultipleNegativesRankingLoss(self.model, similarity_fct=masked)
        anchors_per_epoch = sum(
            1
            for i in range(len(docs))
            if any(text_groups[j] != text_groups[i] for j in positives.sharing(i))
        )
        if anchors_per_epoch < 2:
            raise UserInputError(
                f"only {anchors_per_epoch} training documents share a label at level "
                f"'{level}' with another one: nothing to learn from",
                f"use more documents, or a coarser {setting('level')} (subclass)",
            )
        steps_per_epoch = math.ceil(anchors_per_epoch / opts.batch_size)
        total_steps = steps_per_epoch * opts.epochs
        optimizer = torch.optim.AdamW(self.model.parameters(), lr=opts.learning_rate)
        warmup = max(1, int(WARMUP_SHARE * total_steps))
        scheduler = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda s: _schedule(s, warmup, total_steps)
        )
        scaler = _scaler(self.device, self._amp)
        title_fn: Any = None
        if opts.titles:
            title_mask = MaskedCosine()
            title_fn = (
                MultipleNegativesRankingLoss(self.model, similarity_fct=title_mask),
                title_mask,
            )
        logs = []
        done = 0
        if progress:
            progress(0, anchors_per_epoch * opts.epochs)
        for epoch in range(1, opts.epochs + 1):
            began = time.perf_counter()
            mining: dict[str, int] = {}
            if opts.loss in MINED:
                self.say(f"epoch {epoch}/{opts.epochs}: mining semi-hard negatives")
                vectors = self.encode([d.text for d in docs])
                mined = mine_triplets(
                    vectors, positives, negatives, text_groups, margin=opts.margin, rng=rng
                )
                mining = mined.counts()
                columns = [mined.anchors, mined.positives, mined.negatives]
                self.say(
                    f"  {mined.semi_hard:,} semi-hard, {mined.hard:,} hard (no semi-hard one), "
                    f"{mined.easy_only:,} anchors with easy negatives only, "
                    f"{mined.no_positive:,} without a positive"
                )
            else:
                anchors, chosen = pairs(positives, text_groups, rng)
                columns = [anchors, chosen]
            mining_seconds = time.perf_counter() - began
            order = list(range(len(columns[0])))
            rng.shuffle(order)
            total_examples = done + len(order) + anchors_per_epoch * (opts.epochs - epoch)
            self.model.train()
            losses: list[float] = []
            texts = 0
            for start in range(0, len(order), opts.batch_size):
                batch = order[start : start + opts.batch_size]
                if len(batch) < 2 and opts.loss != "triplet":
                    continue  # one pair has no in-batch negative
                ids = [[col[b] for b in batch] for col in columns]
                if supcon is not None:
                    flat = [c for col in ids for c in col]
                    supcon.set_relations(*batch_relations(flat, levels, text_groups), self.device)
                elif opts.loss != "triplet":
                    flat = [c for col in ids[1:] for c in col]
                    mask = in_batch_mask(ids[0], flat, negatives, text_groups)
                    masked.mask = torch.tensor(mask, dtype=torch.bool, device=self.device)
                features = [self._features([docs[i].text for i in col]) for col in ids]
                terms: list[tuple[Any, list[dict[str, Any]]]] = [(loss_fn, features)]
                texts += sum(len(col) for col in ids)
                if title_fn is not None:
                    for fn, title_features, titled in self._title_term(
                        title_fn, ids[0], docs, text_groups
                    ):
                        terms.append((fn, title_features))
                        texts += 2 * titled
                loss = self._step(terms, optimizer, scaler)
                scheduler.step()
                losses.append(loss)
                done += len(batch)
                if progress:
                    progress(done, total_examples)
            masked.mask = None
            seconds = time.perf_counter() - began
            mean = sum(losses) / len(losses) if losses else 0.0
            logs.append(
                EpochLog(
                    epoch,
                    len(order),
                    round(mean, 5),
                    round(seconds, 1),
                    mining,
                    round(mining_seconds, 1),
                    texts,
                )
            )
            self.say(f"epoch {epoch}/{opts.epochs}: mean loss {mean:.4f}, {seconds:.0f} s")
        self.model.eval()
        return logs

    def _features(self, texts: list[str]) -> dict[str, Any]:
        prepare = getattr(self.model, "preprocess", None) or self.model.tokenize
        features = prepare(texts)
        return {k: v.to(self.device) if hasattr(v, "to") else v for k, v in features.items()}

    def _title_term(
        self, title_fn: Any, anchors: list[int], docs: list[Document], text_groups: list[int]
    ) -> list[tuple[Any, list[dict[str, Any]], int]]:
        """The batch's titled anchors: each title a query whose answer is its own text, the
        other texts of the batch negatives (except a text the same as its own)."""
        import torch

        titled = list(dict.fromkeys(a for a in anchors if docs[a].title))
        if len(titled) < 2:
            return []
        loss_fn, mask = title_fn
        mask.mask = torch.tensor(
            [
                [text_groups[a] == text_groups[b] and i != j for j, b in enumerate(titled)]
                for i, a in enumerate(titled)
            ],
            dtype=torch.bool,
            device=self.device,
        )
        features = [
            self._features([str(docs[a].title) for a in titled]),
            self._features([docs[a].text for a in titled]),
        ]
        return [(loss_fn, features, len(titled))]

    def _step(
        self,
        terms: list[tuple[Any, list[dict[str, Any]]]],
        optimizer: Any,
        scaler: Any,
    ) -> float:
        """One optimizer step on the sum of the ``(loss, features)`` terms' losses."""
        import torch

        with _autocast(self.device, self._amp):
            loss = sum(fn(features, None) for fn, features in terms)
        if scaler is not None:
            scaler.scale(loss).backward()
            scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), MAX_GRAD_NORM)
            scaler.step(optimizer)
            scaler.update()
        else:
            loss.backward()
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), MAX_GRAD_NORM)
            optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return float(loss.detach().float().item())

    def save(self, out: Path) -> Path:
        """The tuned model in a new folder beside ``out`` (moved into place at the end)."""
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
        try:
            self.model.save(str(tmp), create_model_card=False)
        except OSError as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            raise TuneFailed(f"cannot write the model to {tmp}: {exc.strerror}") from exc
        umask = os.umask(0)
        os.umask(umask)
        tmp.chmod(0o777 & ~umask)  # mkdtemp made it private; the model is an ordinary folder
        return tmp


def _schedule(step: int, warmup: int, total: int) -> float:
    """Linear warm-up over ``warmup`` steps, then linear decay to zero at ``total``."""
    if step < warmup:
        return (step + 1) / warmup
    return max(0.0, (total - step) / max(1, total - warmup))


def _autocast(device: str, dtype: str | None) -> contextlib.AbstractContextManager[Any]:
    if dtype is None:
        return contextlib.nullcontext()
    import torch

    kind = "cuda" if device.startswith("cuda") else "cpu"
    return torch.autocast(device_type=kind, dtype=getattr(torch, dtype))


def _scaler(device: str, dtype: str | None) -> Any:
    """A loss scaler for fp16 (bf16 and fp32 need none)."""
    if dtype != "float16":
        return None
    import torch

    kind = "cuda" if device.startswith("cuda") else "cpu"
    return torch.amp.GradScaler(kind)
