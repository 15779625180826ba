#!/usr/bin/python3
"""Write the tiny ONNX fixtures the @lookalike/inference tests use (a few KB, committed).

`tiny-classifier`: conv -> ReLU -> global average pool -> Flatten -> Gemm (5 classes), the same
shape of graph as the public ImageNet ResNet-50 ONNX files. The loader's `stripClassifier` option
must turn it into a 4-d feature extractor; `expected.json` holds the pooled features PyTorch
computes for a fixed input, so the test can check the rewritten graph computes exactly that.

    /usr/bin/python3 tools/model/make_test_models.py
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import torch
import torch.nn as nn

OUT = Path(__file__).resolve().parents[2] / "packages" / "inference" / "test" / "fixtures" / "tiny-classifier"


class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.fc = nn.Linear(4, 5)

    def features(self, x):
        return torch.flatten(torch.relu(self.conv(x)).mean(dim=(2, 3), keepdim=True), 1)

    def forward(self, x):
        return self.fc(self.features(x))


def main():
    torch.manual_seed(0)
    m = Tiny().eval()
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / "model.onnx"
    torch.onnx.export(m, torch.zeros(1, 3, 8, 8), str(path), input_names=["data"], output_names=["logits"],
                      dynamic_axes={"data": {0: "N"}, "logits": {0: "N"}}, opset_version=13)
    x = torch.linspace(-1, 1, 2 * 3 * 8 * 8).reshape(2, 3, 8, 8)
    with torch.no_grad():
        feats = m.features(x)
        logits = m(x)
    manifest = {
        "id": "tiny-classifier",
        "version": 1,
        "description": "Test fixture: a 5-class classifier whose pooled 4-d feature the loader exposes.",
        "file": "model.onnx",
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "input": {"name": "data", "layout": "NCHW", "size": 8, "channels": 3, "colour": "rgb", "background": "white",
                  "polarity": "as-is", "fit": "resize-crop", "resizeShorter": 8, "trim": False, "trimTolerance": 0.1,
                  "trimMinLineFraction": 0.01, "workingSize": 16, "mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25]},
        "output": {"name": "features", "dims": 4, "normalize": False, "stripClassifier": True},
    }
    (OUT / "model.json").write_text(json.dumps(manifest, indent=2) + "\n")
    (OUT / "expected.json").write_text(json.dumps({
        "input": "linspace(-1, 1, 384) reshaped to [2, 3, 8, 8]",
        "features": feats.tolist(),
        "logits": logits.tolist(),
    }, indent=2) + "\n")
    print("wrote", OUT)


if __name__ == "__main__":
    main()
