#!/usr/bin/python3
"""Build fashion-resnet v2: the v1 network's shape features fused with a colour descriptor in
one ONNX graph, optionally fine-tuned on shopper-photo crops.

    /usr/bin/python3 tools/model/build_fashion_resnet_v2.py --colour-weight 0.3              # fuse v1 as is
    /usr/bin/python3 tools/model/build_fashion_resnet_v2.py --finetune-epochs 4 ...          # + fine-tune (transfer)
    /usr/bin/python3 tools/model/build_fashion_resnet_v2.py --diagnostic                      # parts separately

Outputs models/fashion-resnet-v2/ (model.onnx, model.json, metrics.json, parity/); `--diagnostic`
writes .data/v2-diagnostic/model.onnx, whose output is [shape part (128) | colour part (40)]
unweighted, so a colour weight can be chosen from one embedding pass (choose_colour_weight.ts).

Why a fused descriptor, not a colour network: Fashion-MNIST has no colour, so a colour-aware
network would learn colour only from colours we paint on, i.e. exactly a function we can write
down. A fixed, measured descriptor inside the graph keeps the trained shape features (category
and item) untouched, costs nothing to train, and makes its invariances explicit:
* where: pixels weighted by the v1 luma channel (the product after background subtraction), so
  the surface around a detected product counts little;
* what: a soft histogram over 12 hue directions x 3 lightness levels (chromatic pixels) and 4
  grey levels (achromatic pixels), Hellinger-normalised (sqrt, then unit length);
* robust to white balance because hue bins are 30 degrees wide with soft (cosine-kernel)
  membership and achromatic pixels are decided on chroma relative to intensity (a white shirt
  under warm light stays white); robust to exposure because lightness bins are wide and soft;
  JPEG chroma noise averages out over the product's pixels.
The final vector is sqrt(1 - w) * v1 embedding (unit) ++ sqrt(w) * colour (unit), so the cosine
is (1 - w) * v1 cosine + w * colour cosine; w is chosen on the validation split.
"""
from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import math
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from preprocess import preprocess_rgb, read_flattened  # noqa: E402
from retrieval_metrics import knn_accuracy, retrieval_metrics  # noqa: E402
from train import CLASSES, ROOT, load_split  # noqa: E402

V1 = ROOT / "models" / "fashion-resnet"
HUES = 12
LIGHT = 3
GREYS = 4
COLOUR_DIMS = HUES * LIGHT + GREYS


def log(msg: str) -> None:
    print(f"[{datetime.datetime.now().strftime('%H:%M:%S')}] {msg}", flush=True)


class OnnxCnn(nn.Module):
    """v1's graph (BatchNorms folded into the convolutions by the export) as a trainable torch
    module: its initializers become parameters, its nodes are replayed in order."""

    def __init__(self, path: Path):
        super().__init__()
        import onnx
        from onnx import numpy_helper

        m = onnx.load(str(path))
        self.params = nn.ParameterDict()
        self.buffers_ = {}
        self.names = {}
        for init in m.graph.initializer:
            key = f"p{len(self.names)}"
            self.names[init.name] = key
            arr = torch.from_numpy(numpy_helper.to_array(init).copy())
            if "running" in init.name:
                self.register_buffer(key, arr)
            else:
                self.params[key] = nn.Parameter(arr)
        self.nodes = []
        for n in m.graph.node:
            attrs = {a.name: onnx.helper.get_attribute_value(a) for a in n.attribute}
            self.nodes.append((n.op_type, list(n.input), list(n.output), attrs))
            if n.output[0] == "/model/neck/BatchNormalization_output_0":
                break
        self.output = "/model/neck/BatchNormalization_output_0"

    def _get(self, name, env):
        if name in env:
            return env[name]
        key = self.names[name]
        return self.params[key] if key in self.params else getattr(self, key)

    def forward(self, x):
        env = {"image": x}
        for op, ins, outs, a in self.nodes:
            g = [self._get(i, env) for i in ins if i]
            if op == "Conv":
                pads = a.get("pads", [0, 0, 0, 0])
                y = F.conv2d(g[0], g[1], g[2] if len(g) > 2 else None, stride=a.get("strides", [1, 1]),
                             padding=(pads[0], pads[1]), dilation=a.get("dilations", [1, 1]), groups=a.get("group", 1))
            elif op == "Relu":
                y = F.relu(g[0])
            elif op == "Add":
                y = g[0] + g[1]
            elif op == "ReduceMean":
                y = g[0].mean(dim=a["axes"], keepdim=bool(a.get("keepdims", 1)))
            elif op == "MatMul":
                y = g[0] @ g[1]
            elif op == "BatchNormalization":
                y = F.batch_norm(g[0], g[3], g[4], g[1], g[2], False, 0.0, a["epsilon"])
            else:
                raise ValueError(f"unexpected op {op}")
            env[outs[0]] = y
        return env[self.output]


def v1_head(e):
    """v1's output: category part (96) and item part (32), each unit length, weighted 0.8 / 0.2."""
    cat = F.normalize(e[:, :96], dim=1) * math.sqrt(0.8)
    inst = F.normalize(e[:, 96:], dim=1) * math.sqrt(0.2)
    return torch.cat([cat, inst], 1)


class ColourHistogram(nn.Module):
    """Soft colour histogram of the product's pixels (module docstring). Input: luma channel
    (normalised as v1's input) and RGB (3 channels, 0-1); output COLOUR_DIMS, unit length."""

    def __init__(self, mean: float, std: float):
        super().__init__()
        self.mean, self.std = mean, std
        ang = torch.arange(HUES, dtype=torch.float32) * (2 * math.pi / HUES)
        self.register_buffer("dirs", torch.stack([torch.cos(ang), torch.sin(ang)], 1))  # (HUES, 2)
        self.register_buffer("light_c", torch.tensor([0.2, 0.45, 0.75]))
        self.register_buffer("grey_c", torch.tensor([0.08, 0.35, 0.65, 0.92]))

    def forward(self, luma, rgb):
        lum = luma * self.std + self.mean  # the product, bright on black, 0-1
        w = torch.clamp((lum - 0.1) / 0.3, 0.0, 1.0)  # (N, 1, H, W): product pixels
        r, g, b = rgb[:, 0:1], rgb[:, 1:2], rgb[:, 2:3]
        i = (r + g + b) / 3
        o1 = (r - g) * 0.70710678
        o2 = (r + g - 2 * b) * 0.40824829
        chroma = torch.sqrt(o1 * o1 + o2 * o2 + 1e-8)
        # Chroma relative to intensity: exposure-invariant; a white-balance cast on a grey or white
        # product gives ~0.1, a coloured product 0.3+.
        sat = chroma / (i + 0.08)
        chromatic = torch.clamp((sat - 0.15) / 0.15, 0.0, 1.0)
        u1, u2 = o1 / chroma, o2 / chroma
        cos = u1.unsqueeze(-1) * self.dirs[:, 0] + u2.unsqueeze(-1) * self.dirs[:, 1]  # (N,1,H,W,HUES)
        hue = torch.exp((cos - 1) / 0.12)
        hue = hue / hue.sum(-1, keepdim=True)
        lw = torch.exp(-((i.unsqueeze(-1) - self.light_c) ** 2) / (2 * 0.15**2))
        lw = lw / lw.sum(-1, keepdim=True)
        gw = torch.exp(-((i.unsqueeze(-1) - self.grey_c) ** 2) / (2 * 0.12**2))
        gw = gw / gw.sum(-1, keepdim=True)
        c_part = (hue.unsqueeze(-1) * lw.unsqueeze(-2)).flatten(-2) * (chromatic * w).unsqueeze(-1)  # (N,1,H,W,36)
        g_part = gw * ((1 - chromatic) * w).unsqueeze(-1)
        hist = torch.cat([c_part, g_part], -1).sum(dim=(1, 2, 3))  # (N, 40)
        hist = hist / (w.sum(dim=(1, 2, 3)).unsqueeze(-1) + 1e-6)
        return F.normalize(torch.sqrt(hist + 1e-8), dim=1)


class V2(nn.Module):
    def __init__(self, cnn: OnnxCnn, mean: float, std: float, colour_weight: float, diagnostic=False):
        super().__init__()
        self.cnn = cnn
        self.colour = ColourHistogram(mean, std)
        self.wc = colour_weight
        self.diagnostic = diagnostic

    def forward(self, image):
        luma, rgb = image[:, 0:1], image[:, 1:4]
        shape = v1_head(self.cnn(luma))
        colour = self.colour(luma, rgb)
        if self.diagnostic:
            return torch.cat([shape, colour], 1)
        return torch.cat([shape * math.sqrt(1 - self.wc), colour * math.sqrt(self.wc)], 1)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def check_v1(cnn: OnnxCnn, mean: float, std: float) -> float:
    """The replayed graph reproduces v1's own parity embeddings (PyTorch reference)."""
    ref = json.loads((V1 / "parity" / "reference.json").read_text())
    worst = 1.0
    for r in ref["images"]:
        luma, _ = preprocess_rgb(read_flattened(V1 / "parity" / r["file"]))
        with torch.no_grad():
            e = v1_head(cnn((torch.from_numpy(luma)[None, None] - mean) / std))[0]
        worst = min(worst, float(F.cosine_similarity(e, torch.tensor(r["embedding"]), dim=0)))
    return worst


def export(model: nn.Module, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(model.eval(), torch.zeros(1, 4, 28, 28), str(path), input_names=["image"], output_names=["embedding"],
                      dynamic_axes={"image": {0: "batch"}, "embedding": {0: "batch"}}, opset_version=13, do_constant_folding=True)


def to_input(luma: np.ndarray, rgb: np.ndarray, mean: float, std: float) -> torch.Tensor:
    return torch.cat([(torch.from_numpy(luma)[:, None] - mean) / std, torch.from_numpy(rgb)], 1)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=Path("/usr/share/datasets/fashion-mnist"))
    ap.add_argument("--out", type=Path, default=ROOT / "models" / "fashion-resnet-v2")
    ap.add_argument("--colour-weight", type=float, default=0.3)
    ap.add_argument("--diagnostic", action="store_true")
    ap.add_argument("--shape", type=Path, default=None,
                    help="fine-tuned shape network (finetune_shape.py: .data/v2-train/shape.pt); default: v1 as is")
    ap.add_argument("--defaults", type=Path, default=None, help="JSON with the thresholds chosen on validation")
    args = ap.parse_args()
    torch.set_num_threads(2)
    t_start = time.time()
    manifest_v1 = json.loads((V1 / "model.json").read_text())
    mean, std = manifest_v1["input"]["mean"][0], manifest_v1["input"]["std"][0]
    cnn = OnnxCnn(V1 / "model.onnx").eval()
    worst = check_v1(cnn, mean, std)
    log(f"v1 graph replayed: worst parity cosine {worst:.6f}")
    if worst < 0.9999:
        raise SystemExit("the replayed v1 graph does not reproduce v1")
    shape_run = None
    if args.shape:
        cnn.load_state_dict(torch.load(args.shape))
        shape_run = json.loads(args.shape.with_suffix(".json").read_text())
        log(f"shape network: fine-tuned ({args.shape})")
    if args.diagnostic:
        path = ROOT / ".data" / "v2-diagnostic" / "model.onnx"
        export(V2(cnn, mean, std, 0.0, diagnostic=True), path)
        m = dict(manifest_v1, version=99, file="model.onnx", sha256=sha256(path), bytes=path.stat().st_size,
                 description="diagnostic: [v1 (128) | colour (40)] unweighted", defaults=None, metrics=None)
        m["id"] = "fashion-resnet-diagnostic"
        m["input"] = dict(manifest_v1["input"], channels=4, colour="luma+rgb", mean=[mean, 0, 0, 0], std=[std, 1, 1, 1])
        m["output"] = {"name": "embedding", "dims": 128 + COLOUR_DIMS, "normalize": False}
        m = {k: v for k, v in m.items() if v is not None}
        (path.parent / "model.json").write_text(json.dumps(m, indent=2) + "\n")
        log(f"wrote {path}")
        return
    model = V2(cnn, mean, std, args.colour_weight).eval()
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    onnx_path = out / "model.onnx"
    export(model, onnx_path)
    import onnx

    onnx.checker.check_model(onnx.load(str(onnx_path)))

    log("clean test split, leave-one-out")
    te_img, te_y = load_split(args.data, "t10k")
    tr_img, tr_y = load_split(args.data, "train")

    def embed_all(images):
        outs = []
        for k in range(0, len(images), 1000):
            pre = [preprocess_rgb(im) for im in images[k : k + 1000]]
            x = to_input(np.stack([p[0] for p in pre]), np.stack([p[1] for p in pre]), mean, std)
            with torch.no_grad():
                outs.append(model(x))
        return torch.cat(outs)

    te_e = embed_all(te_img)
    te_yt = torch.from_numpy(te_y.astype(np.int64))
    clean = retrieval_metrics(te_e, te_yt)
    g = np.random.default_rng(7)
    fit = g.choice(len(tr_y), 10000, replace=False)
    clean["knnAccuracy"] = knn_accuracy(te_e, te_yt, embed_all(tr_img[fit]), torch.from_numpy(tr_y[fit].astype(np.int64)), k=10)
    clean = {k: round(float(v), 4) for k, v in clean.items()}
    log(f"clean test: {json.dumps(clean)}")

    parity = write_parity(out, model, mean, std, te_img, te_y)
    defaults = json.loads(args.defaults.read_text()) if args.defaults else None
    manifest = {
        "id": "fashion-resnet",
        "version": 2,
        "description": (
            f"fashion-resnet v1's shape network{' fine-tuned on shopper-photo crops' if args.shape else ''} "
            "(category 0.8 / item 0.2) fused in one graph with a colour "
            f"descriptor: a soft histogram of the product's pixels over 12 hues x 3 lightness levels + 4 greys "
            f"(Hellinger-normalised); cosine = {1 - args.colour_weight:.2f} x v1 cosine + {args.colour_weight:.2f} x colour cosine. "
            "Input: v1's luma plane plus the same crop's sRGB (luma+rgb, 4 channels). "
            "Build: tools/model/build_fashion_resnet_v2.py."),
        "license": manifest_v1["license"],
        "file": "model.onnx",
        "sha256": sha256(onnx_path),
        "bytes": onnx_path.stat().st_size,
        "input": dict(manifest_v1["input"], channels=4, colour="luma+rgb", mean=[mean, 0, 0, 0], std=[std, 1, 1, 1]),
        "output": {"name": "embedding", "dims": 128 + COLOUR_DIMS, "normalize": True},
        "classes": CLASSES,
        "colourWeight": args.colour_weight,
        "metrics": {"cleanTest": {**clean, "queries": len(te_y)}},
    }
    if defaults:
        manifest["defaults"] = defaults["defaults"]
    (out / "model.json").write_text(json.dumps(manifest, indent=2) + "\n")
    metrics_path = out / "metrics.json"
    old = json.loads(metrics_path.read_text()) if metrics_path.exists() else {}
    metrics = {
        "model": "fashion-resnet",
        "version": 2,
        "colourWeight": args.colour_weight,
        "cleanTest": {**clean, "queries": len(te_y),
                      "protocol": "Fashion-MNIST test split (10,000 grey images), each queried against the other 9,999 "
                                  "(cosine, leave-one-out); relevant = same category; kNN: 10 nearest of 10,000 training images."},
        "v1ReplayParity": round(worst, 6),
        "parity": parity,
        "build": {"seconds": round(time.time() - t_start), "machine": f"{platform.machine()}, torch {torch.__version__}",
                  "date": datetime.date.today().isoformat()},
    }
    metrics["shapeNetwork"] = shape_run or {"from": "fashion-resnet-v1", "fineTuned": False}
    for keep in ("shopperPhotos", "thresholds", "colourWeightChoice"):
        if keep in old:
            metrics[keep] = old[keep]
    if defaults:
        metrics["thresholds"] = defaults
    metrics_path.write_text(json.dumps(metrics, indent=2) + "\n")
    log(f"wrote {out}")


def write_parity(out: Path, model, mean, std, te_img, te_y):
    """Test-split items as PNG files in several colours and shapes (grey, coloured on white with
    margins, transparent), with what PyTorch computes through preprocess.py."""
    from PIL import Image

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from scenes import COLOUR_NAMES, PALETTE, catalog_rgb

    pdir = out / "parity"
    pdir.mkdir(parents=True, exist_ok=True)
    for old in pdir.glob("*.png"):
        old.unlink()
    rng = np.random.default_rng(99)
    picks = [int(i) for c in range(10) for i in rng.choice(np.nonzero(te_y == c)[0], 3, replace=False)]
    refs = []
    for n, i in enumerate(picks):
        kind = ["grey", "catalog", "alpha"][n % 3]
        colour = PALETTE[COLOUR_NAMES[n % len(COLOUR_NAMES)]]
        if kind == "grey":
            img = Image.fromarray(te_img[i], "L")
        elif kind == "catalog":
            img = Image.fromarray(catalog_rgb(te_img[i], colour)).resize((28 * 3, 28 * 3), Image.NEAREST)
            canvas = Image.new("RGB", (img.width + 20, img.height + 12), (255, 255, 255))
            canvas.paste(img, (8, 4))
            img = canvas
        else:
            rgba = np.zeros((28, 28, 4), dtype=np.uint8)
            rgba[..., :3] = np.round(np.asarray(colour) * 255).astype(np.uint8)
            rgba[..., 3] = te_img[i]
            img = Image.fromarray(rgba, "RGBA").resize((84, 84), Image.NEAREST)
        name = f"{n:02d}-{kind}-{CLASSES[int(te_y[i])].split('/')[0].replace(' ', '-').lower()}.png"
        img.save(pdir / name)
        luma, rgb = preprocess_rgb(read_flattened(pdir / name))
        with torch.no_grad():
            e = model(to_input(luma[None], rgb[None], mean, std))[0]
        refs.append({"file": name, "label": CLASSES[int(te_y[i])], "testIndex": i, "embedding": [round(float(t), 7) for t in e]})
    (pdir / "reference.json").write_text(json.dumps({"model": "fashion-resnet", "version": 2, "images": refs}) + "\n")
    return {"images": len(refs), "requirement": "cosine >= 0.999 between PyTorch and @lookalike/inference"}


if __name__ == "__main__":
    main()
