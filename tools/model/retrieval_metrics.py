"""Retrieval metrics shared by train.py and evaluate_realworld.py (embeddings are L2-normalised)."""
from __future__ import annotations

import torch


def _topk_chunks(q: torch.Tensor, g: torch.Tensor, k: int, exclude_self: bool, chunk: int = 1024):
    """Indices of the k most cosine-similar gallery rows for every query row."""
    out = []
    for s in range(0, q.shape[0], chunk):
        sims = q[s : s + chunk] @ g.T
        if exclude_self:
            idx = torch.arange(s, min(s + chunk, q.shape[0]))
            sims[torch.arange(len(idx)), idx] = -float("inf")
        out.append(sims.topk(k, dim=1).indices)
    return torch.cat(out)


def retrieval_metrics(q: torch.Tensor, ql: torch.Tensor, g: torch.Tensor | None = None,
                      gl: torch.Tensor | None = None, exclude_same_index: bool = False) -> dict:
    """Recall@1/@10 (a relevant item among the top k) and mAP@R (Musgrave et al. 2020: R = number
    of relevant gallery items, AP over the top R). Relevance = same category. Without a gallery
    the queries are searched against each other, leaving the query itself out;
    `exclude_same_index` leaves gallery row i out for query i (e.g. the photo's own product)."""
    leave_one_out = g is None or exclude_same_index
    if g is None:
        g, gl = q, ql
    assert gl is not None
    counts = torch.bincount(gl, minlength=int(max(gl.max(), ql.max())) + 1)
    r = counts[ql] - (1 if leave_one_out else 0)
    kmax = int(r.max())
    top = _topk_chunks(q, g, max(kmax, 10), leave_one_out)
    rel = (gl[top] == ql[:, None]).float()
    recall1 = rel[:, :1].amax(1).mean().item()
    recall10 = rel[:, :10].amax(1).mean().item()
    ranks = torch.arange(1, rel.shape[1] + 1, dtype=torch.float32)
    within_r = (ranks[None, :] <= r[:, None]).float()
    rel_r = rel * within_r
    precision_at_i = rel_r.cumsum(1) / ranks[None, :]
    ap = (precision_at_i * rel_r).sum(1) / r.clamp(min=1).float()
    return {"recall@1": recall1, "recall@10": recall10, "mAP@R": ap.mean().item()}


def knn_accuracy(q: torch.Tensor, ql: torch.Tensor, g: torch.Tensor, gl: torch.Tensor, k: int = 10) -> float:
    """Majority vote of the k most similar gallery items (ties: the class seen first in rank order)."""
    top = _topk_chunks(q, g, k, exclude_self=False)
    labels = gl[top]
    n_cls = int(gl.max()) + 1
    votes = torch.zeros(q.shape[0], n_cls)
    # Tiny rank-dependent bonus breaks ties in favour of nearer neighbours.
    bonus = 1.0 - torch.arange(k, dtype=torch.float32) / (k * 1000)
    votes.scatter_add_(1, labels, bonus.expand_as(labels).contiguous())
    return (votes.argmax(1) == ql).float().mean().item()


def instance_recall(q: torch.Tensor, g: torch.Tensor, ks=(1, 10)) -> dict:
    """Query i's own item is gallery row i: how often it is among the top k ("same product")."""
    top = _topk_chunks(q, g, max(ks), exclude_self=False)
    hit = top == torch.arange(q.shape[0])[:, None]
    return {f"productRecall@{k}": hit[:, :k].any(1).float().mean().item() for k in ks}


def f1_threshold(pos: torch.Tensor, neg: torch.Tensor) -> dict:
    """The similarity threshold (minimum) that maximises F1 when pos should pass and neg should
    not; with precision and recall there."""
    scores = torch.cat([pos, neg])
    labels = torch.cat([torch.ones_like(pos), torch.zeros_like(neg)])
    order = scores.argsort(descending=True)
    s, l = scores[order], labels[order]
    tp = l.cumsum(0)
    fp = (1 - l).cumsum(0)
    precision = tp / (tp + fp)
    recall = tp / len(pos)
    f1 = 2 * precision * recall / (precision + recall).clamp(min=1e-12)
    i = int(f1.argmax())
    # Midway between the last accepted score and the next one, so the threshold is not fitted
    # to one sample's exact value.
    thr = float(s[i]) if i + 1 >= len(s) else float((s[i] + s[i + 1]) / 2)
    return {"threshold": thr, "precision": float(precision[i]), "recall": float(recall[i]), "f1": float(f1[i])}
