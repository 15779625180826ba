#!/usr/bin/python3
"""Score the real-world set (make_realworld.py -> embed_realworld.ts) and record the numbers in
models/fashion-resnet/metrics.json and model.json, separately from the clean test split.

Protocol: the 1,000 catalog images are the gallery, the 1,000 shopper photos the queries.
  productRecall@k  the photo's own product is in the top k (same item, the "match" use case)
  recall@k, mAP@R  relevance = same category (R = 100 per class)
  photoToOtherProducts  the same with the photo's own product left out of the gallery (R = 99)
  catalog          catalog images searched against each other (leave-one-out), same category

    /usr/bin/python3 tools/model/evaluate_realworld.py
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from retrieval_metrics import instance_recall, retrieval_metrics  # noqa: E402
from train import ROOT, rounded  # noqa: E402

DIR = ROOT / ".data" / "realworld"
MODEL = ROOT / "models" / "fashion-resnet"


def score(variant: str, labels: torch.Tensor, n: int) -> dict:
    meta = json.loads((DIR / f"embeddings-{variant}.json").read_text())
    e = torch.from_numpy(np.fromfile(DIR / f"embeddings-{variant}.f32", dtype=np.float32).reshape(meta["rows"], meta["dims"]))
    catalog, photos = e[:n], e[n:]
    out = {
        "photoToCatalog": {**retrieval_metrics(photos, labels, catalog, labels), **instance_recall(photos, catalog)},
        # The same search with the photo's own product removed from the gallery: category
        # retrieval on its own, comparable with the clean test split's leave-one-out numbers.
        "photoToOtherProducts": retrieval_metrics(photos, labels, catalog, labels, exclude_same_index=True),
        "catalog": retrieval_metrics(catalog, labels),
        "trim": meta["trim"],
        "embedSeconds": round(meta["seconds"], 1),
    }
    return rounded(out)


def main() -> None:
    index = json.loads((DIR / "index.json").read_text())
    labels = torch.tensor([i["label"] for i in index["items"]])
    n = len(labels)
    result = {
        "products": n,
        "seed": index["seed"],
        "protocol": "1,000 Fashion-MNIST test items rendered as merchant catalog images (colour on white, 100-3000 px, margins, JPEG/PNG/WebP) and as shopper photos (800-2400 px, tinted light, uneven backgrounds, rotation +-10 deg, off-centre, 20% cut by the frame, blur, noise, JPEG q50-85, 20% with EXIF orientation); tools/model/make_realworld.py. Embedded through @lookalike/inference (sharp + preprocess.ts + ONNX Runtime). Queries: photos; gallery: catalog images.",
        "default": score("trim", labels, n),
    }
    if (DIR / "embeddings-no-trim.f32").exists():
        result["withoutTrim"] = score("no-trim", labels, n)
    metrics = json.loads((MODEL / "metrics.json").read_text())
    metrics.pop("realWorldStale", None)
    metrics["realWorld"] = result
    (MODEL / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    manifest = json.loads((MODEL / "model.json").read_text())
    manifest["metrics"]["realWorld"] = {k: result["default"][k] for k in ("photoToCatalog", "photoToOtherProducts", "catalog")}
    (MODEL / "model.json").write_text(json.dumps(manifest, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
