#!/usr/bin/python3
"""Export torchvision's ResNet-50 architecture to ONNX with random weights and no classifier.

No pretrained weights can be downloaded here, so this exists to measure ResNet-50's speed
(bench/embed.ts calls it and writes to .data/bench-models/, which git ignores: the file is ~95 MB).
The graph matches what users get from `npm run model:fetch -- resnet50-imagenet`: input `data`
[N, 3, 224, 224] (ImageNet mean/std), output `features` [N, 2048] (the pooled feature, classifier
removed). A manifest (model.json) with the file's sha256 is written beside it, so the embedder loads
it like any other model.

    /usr/bin/python3 tools/model/export_resnet50.py --out .data/bench-models/resnet50-random
"""
from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import torch
import torchvision


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    model = torchvision.models.resnet50(weights=None)
    model.fc = torch.nn.Identity()
    model.eval()
    args.out.mkdir(parents=True, exist_ok=True)
    onnx_path = args.out / "model.onnx"
    torch.onnx.export(
        model, torch.zeros(1, 3, 224, 224), str(onnx_path), input_names=["data"], output_names=["features"],
        dynamic_axes={"data": {0: "N"}, "features": {0: "N"}}, opset_version=13, do_constant_folding=True,
    )
    sha = hashlib.sha256(onnx_path.read_bytes()).hexdigest()
    manifest = json.loads((Path(__file__).resolve().parents[2] / "models" / "resnet50-imagenet" / "model.json").read_text())
    manifest.update({
        "id": "resnet50-random",
        "version": 1,
        "description": "torchvision ResNet-50 architecture with RANDOM weights (speed benchmarks only; embeddings are meaningless).",
        "license": "BSD-3-Clause (torchvision architecture; random weights)",
        "file": "model.onnx",
        "sha256": sha,
        "bytes": onnx_path.stat().st_size,
    })
    manifest["output"] = {"name": "features", "dims": 2048, "normalize": True}
    for key in ("download", "metrics", "defaults"):
        manifest.pop(key, None)
    (args.out / "model.json").write_text(json.dumps(manifest, indent=2) + "\n")
    print(json.dumps({"onnx": str(onnx_path), "sha256": sha, "bytes": onnx_path.stat().st_size}))


if __name__ == "__main__":
    main()
