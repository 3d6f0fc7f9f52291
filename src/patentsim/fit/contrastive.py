"""The supervised contrastive loss of ``--loss supcon`` (imported only when tuning: torch).

Every document of a batch is an anchor; every other document of the batch that shares a
code with it at a level is a positive at that level, and every document sharing nothing at
that level a negative.  For one level and anchor ``i`` with positives ``P(i)``::

    loss_i = -1/|P(i)| · Σ_{p ∈ P(i)} log( exp(s·cos(i,p)) / Σ_k exp(s·cos(i,k)) )

with ``k`` over the batch except ``i`` and documents with its text, and ``s`` the same
scale as MultipleNegativesRankingLoss (20).  The loss is the mean over anchors with a
positive, averaged over the levels (the tuning level and, for IPC/CPC labels, the subclass):
a document of the same subclass but another main group is pulled in by the subclass term and
held apart by the group term, so the ranking follows the label hierarchy instead of masking
most of the batch out (as in-batch negatives must where one subclass covers half the data).
"""

from __future__ import annotations

from typing import Any

import torch

SCALE = 20.0
_FAR = -1e4  # stands for -inf: a finite logit keeps a fully excluded row free of NaN


class SupervisedContrastive(torch.nn.Module):
    """Call with the batch's tokenized texts (one or more feature dicts, concatenated in
    order) after setting ``relations`` to ``batch_relations``' masks for the same order."""

    def __init__(self, model: Any, scale: float = SCALE) -> None:
        super().__init__()
        self.model = model
        self.scale = scale
        self.exclude: torch.Tensor | None = None
        self.positives: list[torch.Tensor] = []

    def set_relations(
        self, exclude: list[list[bool]], positives: list[list[list[bool]]], device: str
    ) -> None:
        self.exclude = torch.tensor(exclude, dtype=torch.bool, device=device)
        self.positives = [torch.tensor(p, dtype=torch.bool, device=device) for p in positives]

    def forward(self, features: list[dict[str, Any]], labels: Any = None) -> torch.Tensor:
        embeddings = torch.cat([self.model(f)["sentence_embedding"] for f in features])
        return supcon_loss(embeddings, self.exclude, self.positives, self.scale)


def supcon_loss(
    embeddings: torch.Tensor,
    exclude: torch.Tensor | None,
    positives: list[torch.Tensor],
    scale: float = SCALE,
) -> torch.Tensor:
    """The loss of the module docstring for ``embeddings`` (one row per batch document)."""
    if exclude is None or not positives:
        raise ValueError("the batch's relations are not set")
    vectors = torch.nn.functional.normalize(embeddings.float(), dim=-1)
    logits = (vectors @ vectors.T) * scale
    logits = logits.masked_fill(exclude, _FAR)
    log_prob = logits - torch.logsumexp(logits, dim=1, keepdim=True)
    terms = []
    for pos in positives:
        counts = pos.sum(dim=1)
        rows = counts > 0
        if not bool(rows.any()):
            continue
        summed = log_prob.masked_fill(~pos, 0.0).sum(dim=1)
        terms.append(-(summed[rows] / counts[rows]).mean())
    if not terms:
        return embeddings.sum() * 0.0  # no positive in the batch: nothing to learn, no step
    return torch.stack(terms).mean()
