#!/usr/bin/python3
"""Write the bundled `colour-thumbnail` model: a colour-layout ("thumbnail") descriptor as ONNX.

No weights and no training: the graph averages each RGB channel of the 16x16 input over 4x4
blocks (AveragePool, kernel 4, stride 4 -> [N, 3, 4, 4]) and flattens it in C, H, W order to a
48-d vector (Flatten -> [N, 48]); the loader L2-normalises it (manifest `normalize: true`), so
cosine similarity compares colour layouts. It is the second bundled embedding model, with other
dims than `fashion-resnet` (48 vs 128), for the model lifecycle (several models side by side,
re-indexing a catalog, switching the serving model) and as a classic near-duplicate baseline.

    /usr/bin/python3 tools/model/export_colour_thumbnail.py          # writes models/colour-thumbnail/
    /usr/bin/python3 tools/model/export_colour_thumbnail.py --check  # fails if the files differ

Deterministic: the same bytes on every run (no timestamps or random names in the graph; the
producer is named explicitly). Needs only Debian's `python3-onnx` (1.12: IR version 8, opset 17,
both accepted by onnxruntime-node 1.30).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import onnx
from onnx import TensorProto, checker, helper

OUT = Path(__file__).resolve().parents[2] / "models" / "colour-thumbnail"
SIZE = 16  # input side, px
BLOCK = 4  # pooling block, px: a 4x4 grid of cells per channel
CHANNELS = 3
DIMS = CHANNELS * (SIZE // BLOCK) ** 2  # 48
OPSET = 17
IR_VERSION = 8

DESCRIPTION = (
    "Colour-layout (thumbnail) descriptor, no trained weights: the RGB image is trimmed to its "
    "product (uniform border removed), its shorter side resized to 16 px and centre-cropped to "
    "16x16 (resize-crop: the only RGB pipeline; it cuts the long side of elongated products), "
    "normalised with mean 0.5 / std 0.25 (centred on mid-grey: white background and a dark product "
    "pull opposite ways), each channel averaged over 4x4 blocks and flattened (C,H,W) to 48 values; "
    "the loader L2-normalises them, so cosine compares colour layouts. Trim because, measured on "
    "600 demo catalog images (packages/core/src/demo/render.ts) with one shopper photo each, the "
    "photo finds its own product first (R@1) 0.580 of the time with trim, 0.107 without; resized "
    "JPEG q85 copies: R@1 1.000 either way. No defaults: the F1-optimal thresholds there are weak "
    "(same product F1 0.29 at cosine 0.977; same category F1 0.25, precision 0.19 vs 0.10 by "
    "chance), so the app's fallback applies. A near-duplicate baseline and the second bundled model "
    "(48-d vs fashion-resnet's 128-d) for re-indexing and switching models. Rebuild: "
    "/usr/bin/python3 tools/model/export_colour_thumbnail.py."
)


def build_model() -> onnx.ModelProto:
    image = helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", CHANNELS, SIZE, SIZE])
    embedding = helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["N", DIMS])
    nodes = [
        helper.make_node(
            "AveragePool", ["image"], ["cells"], name="block_mean",
            kernel_shape=[BLOCK, BLOCK], strides=[BLOCK, BLOCK],
        ),
        helper.make_node("Flatten", ["cells"], ["embedding"], name="flatten", axis=1),
    ]
    graph = helper.make_graph(
        nodes, "colour_thumbnail", [image], [embedding],
        value_info=[
            helper.make_tensor_value_info(
                "cells", TensorProto.FLOAT, ["N", CHANNELS, SIZE // BLOCK, SIZE // BLOCK]
            )
        ],
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="lookalike tools/model/export_colour_thumbnail.py",
        producer_version="1",
        doc_string="RGB 16x16 -> mean of each 4x4 block per channel -> 48-d (C,H,W)",
    )
    model.ir_version = IR_VERSION
    checker.check_model(model, full_check=True)
    return model


def manifest(onnx_bytes: bytes) -> dict:
    return {
        "id": "colour-thumbnail",
        "version": 1,
        "description": DESCRIPTION,
        "license": "Apache-2.0 (no weights: a fixed pooling graph)",
        "file": "model.onnx",
        "sha256": hashlib.sha256(onnx_bytes).hexdigest(),
        "bytes": len(onnx_bytes),
        "input": {
            "name": "image",
            "layout": "NCHW",
            "size": SIZE,
            "channels": CHANNELS,
            "colour": "rgb",
            "background": "white",
            "polarity": "as-is",
            "fit": "resize-crop",
            "resizeShorter": SIZE,
            "trim": True,
            "trimTolerance": 0.1,
            "trimMinLineFraction": 0.01,
            "workingSize": 128,
            "mean": [0.5, 0.5, 0.5],
            "std": [0.25, 0.25, 0.25],
        },
        "output": {"name": "embedding", "dims": DIMS, "normalize": True},
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--check", action="store_true", help="compare with the files on disk, write nothing")
    args = ap.parse_args()
    onnx_bytes = build_model().SerializeToString()
    json_text = json.dumps(manifest(onnx_bytes), indent=2) + "\n"
    files = {args.out / "model.onnx": onnx_bytes, args.out / "model.json": json_text.encode()}
    if args.check:
        stale = [str(p) for p, b in files.items() if not p.exists() or p.read_bytes() != b]
        if stale:
            sys.exit(f"out of date: {', '.join(stale)} (run {Path(__file__).name})")
        print("up to date:", args.out)
        return
    args.out.mkdir(parents=True, exist_ok=True)
    for path, data in files.items():
        path.write_bytes(data)
    print(f"wrote {args.out}: model.onnx {len(onnx_bytes)} bytes, sha256 {hashlib.sha256(onnx_bytes).hexdigest()}")


if __name__ == "__main__":
    main()
