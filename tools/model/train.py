#!/usr/bin/python3
"""Train the bundled `fashion-resnet` embedder on Fashion-MNIST and export it to ONNX.

Run from the repository root with Debian's Python (it has python3-torch / -torchvision / -onnx):

    /usr/bin/python3 tools/model/train.py            # full run (see README.md for the time it takes)
    /usr/bin/python3 tools/model/train.py --pilot    # a few steps, to measure speed

Outputs (models/fashion-resnet/): model.onnx, model.json (manifest), metrics.json, parity/ (PNG
images + reference embeddings computed here in PyTorch). Scratch files and the resumable
checkpoint go to .data/model-train/ (gitignored).

What it does and why:
* Every image first goes through preprocess.py, the exact twin of the TypeScript preprocessing, so
  training sees what serving will produce.
* 5,000 training images (500 per class, seeded) are held out as a validation split. Thresholds and
  model monitoring use it; the test split is only evaluated once, at the end, and never tuned on.
* Objective: two views of every image (a light "catalog" view and a heavy "shopper photo" view:
  rotation, scale, margins, crops, blur, resolution loss, gamma/contrast, uneven background,
  noise, occlusion). Both views train a cosine classifier with an additive margin (CosFace) on the
  L2-normalised 128-d embedding, which makes each category a tight cluster (category retrieval);
  an InfoNCE term pulls the two views of the same image together against everything else in the
  batch, so the same product is findable from a photo (product retrieval, "match").
"""
from __future__ import annotations

import argparse
import datetime
import gzip
import hashlib
import json
import math
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from preprocess import preprocess, read_flattened  # noqa: E402
from retrieval_metrics import f1_threshold, instance_recall, knn_accuracy, retrieval_metrics  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
PREPROCESS_VERSION = 1  # bump when preprocess.py changes, to invalidate the cache


def log(msg: str) -> None:
    print(f"[{datetime.datetime.now().strftime('%H:%M:%S')}] {msg}", flush=True)


# ---------------------------------------------------------------------------------------- data

def read_idx(path: Path) -> np.ndarray:
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic = int.from_bytes(data[0:4], "big")
    ndim = magic & 0xFF
    shape = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def load_split(data_dir: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    images = read_idx(data_dir / f"{split}-images-idx3-ubyte.gz")
    labels = read_idx(data_dir / f"{split}-labels-idx1-ubyte.gz")
    return images, labels


def preprocess_all(images: np.ndarray, cache: Path) -> np.ndarray:
    if cache.exists():
        return np.load(cache)
    out = np.stack([preprocess(img) for img in images])
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.save(cache, out)
    return out


# --------------------------------------------------------------------------------------- model

class BasicBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = (
            nn.Identity()
            if stride == 1 and cin == cout
            else nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
        )

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + self.shortcut(x))


class FashionResNet(nn.Module):
    """CIFAR-style ResNet for 1x28x28 input: stages at 28, 14 and 7 px, global average pool, a
    linear projection to the embedding and a BatchNorm on it (a "BNNeck", which helps the cosine
    classifier).

    With `instance_dims` > 0 the embedding has two parts: the first dims - instance_dims carry
    the category (trained by the cosine classifier only), the last instance_dims tell items apart
    (trained by InfoNCE only). Each part is L2-normalised and weighted so that
    cosine = (1 - share) * category similarity + share * item similarity: categories stay tight
    clusters (mAP@R) while the same item still scores above other items of its category
    (matching). The ONNX graph outputs this final, unit-length vector."""

    def __init__(self, widths=(32, 64, 128), blocks=(2, 2, 2), dims: int = 128, instance_dims: int = 0,
                 instance_share: float = 0.2):
        super().__init__()
        self.instance_dims = instance_dims
        self.instance_share = instance_share
        self.stem = nn.Sequential(nn.Conv2d(1, widths[0], 3, 1, 1, bias=False), nn.BatchNorm2d(widths[0]), nn.ReLU())
        layers, cin = [], widths[0]
        for i, (w, n) in enumerate(zip(widths, blocks)):
            for j in range(n):
                layers.append(BasicBlock(cin, w, 2 if (i > 0 and j == 0) else 1))
                cin = w
        self.layers = nn.Sequential(*layers)
        self.proj = nn.Linear(cin, dims, bias=False)
        self.neck = nn.BatchNorm1d(dims)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        # Zero-init the last BN of each residual branch: every block starts as identity, which
        # trains faster in a short schedule (Goyal et al. 2017).
        for m in self.modules():
            if isinstance(m, BasicBlock):
                nn.init.zeros_(m.bn2.weight)

    def forward(self, x):
        x = self.layers(self.stem(x))
        x = x.mean(dim=(2, 3))
        return self.neck(self.proj(x))

    def split(self, e):
        """(category part, item part) of a raw embedding; the item part is None when not split."""
        if not self.instance_dims:
            return e, None
        return e[:, : -self.instance_dims], e[:, -self.instance_dims :]

    def embedding(self, x):
        cat, item = self.split(self(x))
        if item is None:
            return F.normalize(cat)
        return torch.cat([math.sqrt(1 - self.instance_share) * F.normalize(cat),
                          math.sqrt(self.instance_share) * F.normalize(item)], 1)


class Exported(nn.Module):
    """What the ONNX file computes: the final embedding."""

    def __init__(self, model: FashionResNet):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model.embedding(x)


# -------------------------------------------------------------------------------- augmentation

def affine(x, rot_deg, scale, tx, ty):
    """Rotate/scale/translate a batch (B,1,H,W); scale < 1 shrinks the product (margins)."""
    th = rot_deg * math.pi / 180
    cos, sin = torch.cos(th) / scale, torch.sin(th) / scale
    theta = torch.stack([torch.stack([cos, -sin, tx], 1), torch.stack([sin, cos, ty], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def uniform(b, lo, hi, g):
    return torch.rand(b, generator=g) * (hi - lo) + lo


def random_erase(x, p, g):
    b, _, h, w = x.shape
    hit = torch.rand(b, generator=g) < p
    area = uniform(b, 0.03, 0.15, g) * h * w
    aspect = torch.exp(uniform(b, math.log(0.4), math.log(2.5), g))
    eh = (area * aspect).sqrt().clamp(2, h - 2).long()
    ew = (area / aspect).sqrt().clamp(2, w - 2).long()
    y0 = (torch.rand(b, generator=g) * (h - eh + 1).float()).long()
    x0 = (torch.rand(b, generator=g) * (w - ew + 1).float()).long()
    yy = torch.arange(h)[None, :, None]
    xx = torch.arange(w)[None, None, :]
    box = (yy >= y0[:, None, None]) & (yy < (y0 + eh)[:, None, None]) & (xx >= x0[:, None, None]) & (xx < (x0 + ew)[:, None, None])
    box = box & hit[:, None, None]
    return x.masked_fill(box[:, None], 0.0)


def gaussian_blur(x, sigma):
    b = x.shape[0]
    r = torch.arange(-2, 3, dtype=torch.float32)
    k1 = torch.exp(-(r[None, :] ** 2) / (2 * sigma[:, None].clamp(min=1e-3) ** 2))
    k1 = k1 / k1.sum(1, keepdim=True)
    k2 = k1[:, :, None] * k1[:, None, :]
    y = F.conv2d(F.pad(x.transpose(0, 1), (2, 2, 2, 2), mode="replicate"), k2[:, None], groups=b)
    return y.transpose(0, 1)


def light_view(x, g):
    b = x.shape[0]
    x = affine(x, uniform(b, -5, 5, g), uniform(b, 0.92, 1.06, g), uniform(b, -0.08, 0.08, g), uniform(b, -0.08, 0.08, g))
    return random_erase(x, 0.3, g)


def photo_view(x, g):
    """What survives preprocessing of a shopper's photo or an odd catalog image: imperfect trim
    (margins or a cut-off edge), a slight rotation, lost resolution (thumbnails, blur, JPEG),
    lighting (gamma, contrast, a tint turns into a brightness change in luma), an uneven
    background that background subtraction leaves behind, sensor noise, occlusion."""
    b, _, h, w = x.shape
    scale = torch.exp(uniform(b, math.log(0.68), math.log(1.12), g))
    x = affine(x, uniform(b, -12, 12, g), scale, uniform(b, -0.15, 0.15, g), uniform(b, -0.15, 0.15, g))
    lowres = torch.rand(b, generator=g) < 0.3
    if lowres.any():
        r = int(torch.randint(11, 23, (1,), generator=g))
        small = F.interpolate(x[lowres], size=(r, r), mode="area")
        x[lowres] = F.interpolate(small, size=(h, w), mode="bilinear", align_corners=False)
    sigma = torch.where(torch.rand(b, generator=g) < 0.5, uniform(b, 0.3, 1.2, g), torch.zeros(b))
    x = torch.where((sigma > 0)[:, None, None, None], gaussian_blur(x, sigma), x)
    gamma = torch.exp(uniform(b, math.log(0.6), math.log(1.6), g))
    x = x.clamp(0, 1) ** gamma[:, None, None, None]
    x = x * uniform(b, 0.55, 1.15, g)[:, None, None, None]
    # Uneven background: a ramp in a random direction, present in half the images.
    lift = torch.where(torch.rand(b, generator=g) < 0.5, uniform(b, 0.0, 0.15, g), torch.zeros(b))
    ang = uniform(b, 0, 2 * math.pi, g)
    yy = torch.linspace(-1, 1, h)[None, :, None]
    xx = torch.linspace(-1, 1, w)[None, None, :]
    ramp = 0.5 + 0.5 * (torch.cos(ang)[:, None, None] * xx + torch.sin(ang)[:, None, None] * yy) / math.sqrt(2)
    bgl = (lift[:, None, None] * ramp)[:, None]
    x = bgl + (1 - bgl) * x
    x = x + torch.randn(x.shape, generator=g) * uniform(b, 0, 0.05, g)[:, None, None, None]
    x = random_erase(x, 0.25, g)
    return x.clamp(0, 1)


# ---------------------------------------------------------------------------------------- loss

class CosFace(nn.Module):
    def __init__(self, dims: int, classes: int, s: float, m: float):
        super().__init__()
        self.w = nn.Parameter(torch.randn(classes, dims) * 0.01)
        self.s, self.m = s, m

    def forward(self, e, y):
        cos = F.normalize(e) @ F.normalize(self.w).T
        return F.cross_entropy(self.s * (cos - self.m * F.one_hot(y, cos.shape[1])), y)


def info_nce(a, b, tau):
    z = F.normalize(torch.cat([a, b]))
    n = a.shape[0]
    sim = z @ z.T / tau
    sim.fill_diagonal_(-float("inf"))
    target = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)])
    return F.cross_entropy(sim, target)


# ---------------------------------------------------------------------------------- evaluation

@torch.no_grad()
def embed(model, x, mean, std, batch=1000):
    model.eval()
    out = [model.embedding((x[i : i + batch] - mean) / std) for i in range(0, x.shape[0], batch)]
    return torch.cat(out)


@torch.no_grad()
def photo_views(x, seed, copies=1):
    g = torch.Generator().manual_seed(seed)
    return torch.cat([photo_view(x.clone(), g) for _ in range(copies)])


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def rounded(d):
    if isinstance(d, dict):
        return {k: rounded(v) for k, v in d.items()}
    if isinstance(d, float):
        return round(d, 4)
    return d


# ---------------------------------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=Path("/usr/share/datasets/fashion-mnist"))
    ap.add_argument("--out", type=Path, default=ROOT / "models" / "fashion-resnet")
    ap.add_argument("--work", type=Path, default=ROOT / ".data" / "model-train")
    ap.add_argument("--epochs", type=int, default=24)
    ap.add_argument("--batch", type=int, default=128, help="images per step; each contributes two views")
    ap.add_argument("--lr", type=float, default=0.1)
    ap.add_argument("--wd", type=float, default=5e-4)
    ap.add_argument("--widths", default="16,64,128")
    ap.add_argument("--blocks", default="2,2,2")
    ap.add_argument("--dims", type=int, default=128)
    ap.add_argument("--scale", type=float, default=20.0, help="CosFace scale (1 / temperature)")
    ap.add_argument("--margin", type=float, default=0.1, help="CosFace additive margin")
    ap.add_argument("--instance-weight", type=float, default=0.5)
    ap.add_argument("--late-epoch", type=int, default=99,
                    help="from this (1-based) epoch on, the InfoNCE weight is --late-instance-weight (default: never)")
    ap.add_argument("--late-instance-weight", type=float, default=0.1)
    ap.add_argument("--instance-dims", type=int, default=32,
                    help="> 0: the last N dims are a separate item part trained by InfoNCE only")
    ap.add_argument("--instance-share", type=float, default=0.2,
                    help="weight of the item part's cosine in the final cosine")
    ap.add_argument("--tau", type=float, default=0.2, help="InfoNCE temperature")
    ap.add_argument("--photo-fraction", type=float, default=0.6)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument("--bf16", type=int, default=1, help="bfloat16 autocast for training (3x faster on AVX512-BF16 CPUs); evaluation and export are float32")
    ap.add_argument("--pilot", action="store_true", help="run 20 steps and report the speed")
    ap.add_argument("--no-resume", action="store_true")
    ap.add_argument("--export-only", action="store_true", help="skip training: export/evaluate the checkpoint as it is")
    ap.add_argument("--quick", action="store_true", help="with --export-only: skip the test-split evaluation (for trying the export pipeline)")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
    args.work.mkdir(parents=True, exist_ok=True)
    t_start = time.time()

    log("loading and preprocessing Fashion-MNIST")
    tr_img, tr_lab = load_split(args.data, "train")
    te_img, te_lab = load_split(args.data, "t10k")
    tr_x = torch.from_numpy(preprocess_all(tr_img, args.work / f"train-pre-v{PREPROCESS_VERSION}.npy"))[:, None]
    te_x = torch.from_numpy(preprocess_all(te_img, args.work / f"test-pre-v{PREPROCESS_VERSION}.npy"))[:, None]
    tr_y = torch.from_numpy(tr_lab.astype(np.int64))
    te_y = torch.from_numpy(te_lab.astype(np.int64))

    # Stratified hold-out: 500 images per class from the training split.
    g = torch.Generator().manual_seed(args.seed)
    perm = torch.randperm(len(tr_y), generator=g)
    val_idx = torch.cat([perm[tr_y[perm] == c][:500] for c in range(10)]).sort().values
    is_val = torch.zeros(len(tr_y), dtype=torch.bool)
    is_val[val_idx] = True
    fit_x, fit_y = tr_x[~is_val], tr_y[~is_val]
    val_x, val_y = tr_x[is_val], tr_y[is_val]
    mean = float(fit_x.mean())
    std = float(fit_x.std())
    log(f"fit {len(fit_y)}, validation {len(val_y)}, test {len(te_y)}; mean {mean:.4f} std {std:.4f}")

    widths = tuple(int(v) for v in args.widths.split(","))
    blocks = tuple(int(v) for v in args.blocks.split(","))
    model = FashionResNet(widths, blocks, args.dims, args.instance_dims, args.instance_share)
    head = CosFace(args.dims - args.instance_dims, 10, args.scale, args.margin)
    decay, no_decay = [], []
    for n_, p in model.named_parameters():
        (decay if p.ndim > 1 else no_decay).append(p)
    opt = torch.optim.SGD(
        [{"params": decay, "weight_decay": args.wd}, {"params": no_decay + list(head.parameters()), "weight_decay": 0.0}],
        lr=args.lr, momentum=0.9, nesterov=True,
    )
    steps_per_epoch = len(fit_y) // args.batch
    total_steps = steps_per_epoch * args.epochs
    warmup = steps_per_epoch

    def lr_at(step):
        if step < warmup:
            return args.lr * (step + 1) / warmup
        return 0.5 * args.lr * (1 + math.cos(math.pi * (step - warmup) / max(1, total_steps - warmup)))

    ckpt_path = args.work / "checkpoint.pt"
    start_epoch, history, train_seconds = 0, [], 0.0
    if ckpt_path.exists() and not args.no_resume and not args.pilot:
        ck = torch.load(ckpt_path)
        # Resume only a run with the same recipe (paths and export flags may differ).
        # --instance-share is an export flag: the losses train each part on its own, and the
        # share only weighs them in the exported embedding (and in monitoring), so a finished
        # run can be re-exported with another share chosen on the validation split.
        recipe = ("epochs", "batch", "lr", "wd", "widths", "blocks", "dims", "scale", "margin",
                  "instance_weight", "tau", "seed", "bf16", "photo_fraction", "data",
                  "late_epoch", "late_instance_weight", "instance_dims")
        now = {k: str(v) for k, v in vars(args).items()}
        # Keys a checkpoint predates are not compared (its epochs ran before they mattered).
        same = lambda a: {k: a.get(k) for k in recipe if k in ck["args"]}  # noqa: E731
        if same(ck["args"]) == same(now):
            model.load_state_dict(ck["model"]); head.load_state_dict(ck["head"]); opt.load_state_dict(ck["opt"])
            start_epoch, history, train_seconds = ck["epoch"], ck["history"], ck["train_seconds"]
            log(f"resumed after epoch {start_epoch}")
        elif args.export_only:
            raise SystemExit("the checkpoint was trained with a different recipe; refusing to export it")

    for epoch in range(start_epoch, 0 if args.export_only else args.epochs):
        model.train(); head.train()
        t0 = time.time()
        g = torch.Generator().manual_seed(args.seed * 1000 + epoch)
        order = torch.randperm(len(fit_y), generator=g)
        running = [0.0, 0.0]
        for i in range(steps_per_epoch):
            step = epoch * steps_per_epoch + i
            for group in opt.param_groups:
                group["lr"] = lr_at(step)
            idx = order[i * args.batch : (i + 1) * args.batch]
            x, y = fit_x[idx], fit_y[idx]
            flip = torch.rand(len(idx), generator=g) < 0.5
            x = torch.where(flip[:, None, None, None], x.flip(3), x)
            with torch.no_grad():
                # 60% of second views are shopper photos, the rest a second light view: the
                # photo views buy robustness, the light ones protect clean accuracy.
                photo = (torch.rand(len(idx), generator=g) < args.photo_fraction)[:, None, None, None]
                v1 = light_view(x, g)
                v2 = torch.where(photo, photo_view(x.clone(), g), light_view(x, g))
                inp = (torch.cat([v1, v2]) - mean) / std
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bool(args.bf16)):
                e = model(inp)
            e = e.float()
            cat, item = model.split(e)
            if item is None:
                item = cat
            cls = head(cat, torch.cat([y, y]))
            inst = info_nce(item[: len(idx)], item[len(idx) :], args.tau)
            weight = args.instance_weight if epoch + 1 < args.late_epoch else args.late_instance_weight
            loss = cls + weight * inst
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            running[0] += cls.item(); running[1] += inst.item()
            if args.pilot and i == 19:
                dt = time.time() - t0
                log(f"pilot: {20 / dt:.2f} steps/s, {40 * args.batch / dt:.0f} samples/s, "
                    f"epoch ~ {steps_per_epoch / (20 / dt) / 60:.1f} min")
                return
            if (i + 1) % 100 == 0:
                log(f"epoch {epoch + 1} step {i + 1}/{steps_per_epoch} cls {running[0] / (i + 1):.3f} inst {running[1] / (i + 1):.3f} lr {lr_at(step):.4f}")
        train_seconds += time.time() - t0
        entry = {"epoch": epoch + 1, "cls": running[0] / steps_per_epoch, "inst": running[1] / steps_per_epoch, "seconds": time.time() - t0}
        if (epoch + 1) % 3 == 0 or epoch + 1 >= args.late_epoch:
            ve = embed(model, val_x, mean, std)
            vm = retrieval_metrics(ve, val_y)
            vp = instance_recall(embed(model, photo_views(val_x, 7), mean, std), ve)
            entry.update({k: round(v, 4) for k, v in {**vm, **vp}.items()})
        history.append(entry)
        log(f"epoch {epoch + 1} done in {entry['seconds']:.0f}s: " + json.dumps({k: (round(v, 4) if isinstance(v, float) else v) for k, v in entry.items()}))
        torch.save({"model": model.state_dict(), "head": head.state_dict(), "opt": opt.state_dict(), "epoch": epoch + 1,
                    "history": history, "train_seconds": train_seconds,
                    "args": {k: str(v) for k, v in vars(args).items()}}, ckpt_path)

    finish(args, model, mean, std, tr_x, tr_y, is_val, fit_x, fit_y, val_x, val_y, te_x, te_y, te_img, history, train_seconds, t_start)


def finish(args, model, mean, std, tr_x, tr_y, is_val, fit_x, fit_y, val_x, val_y, te_x, te_y, te_img, history, train_seconds, t_start):
    model.eval()
    out = args.out
    out.mkdir(parents=True, exist_ok=True)

    log("exporting ONNX")
    onnx_path = out / "model.onnx"
    torch.onnx.export(
        Exported(model).eval(), torch.zeros(1, 1, 28, 28), str(onnx_path), input_names=["image"], output_names=["embedding"],
        dynamic_axes={"image": {0: "batch"}, "embedding": {0: "batch"}}, opset_version=13, do_constant_folding=True,
    )
    import onnx
    onnx.checker.check_model(onnx.load(str(onnx_path)))

    if args.quick:
        clean = {"note": "not evaluated (--quick export)"}
    else:
        log("evaluating on the clean test split")
        te_e = embed(model, te_x, mean, std)
        fit_e = embed(model, fit_x, mean, std)
        clean = retrieval_metrics(te_e, te_y)
        clean["knnAccuracy"] = knn_accuracy(te_e, te_y, fit_e, fit_y, k=10)
        log(f"clean test: {json.dumps(rounded(clean))}")

    log("validation: thresholds and photo-view metrics")
    val_e = embed(model, val_x, mean, std)
    val_q = embed(model, photo_views(val_x, 11), mean, std)
    val_metrics = retrieval_metrics(val_e, val_y)
    val_photo = {**retrieval_metrics(val_q, val_y, val_e, val_y), **instance_recall(val_q, val_e)}
    sims = val_q @ val_e.T
    n = len(val_y)
    same_item = torch.eye(n, dtype=torch.bool)
    same_cat = val_y[:, None] == val_y[None, :]
    match = f1_threshold(sims[same_item], sims[~same_item])
    search = f1_threshold(sims[same_cat], sims[~same_cat])

    def euclid(t):
        # For unit vectors |a - b| = sqrt(2 - 2 cos): the same decision as a distance maximum.
        return {**t, "threshold": math.sqrt(max(0.0, 2 - 2 * t["threshold"]))}

    thresholds = {
        "cosine": {"searchThreshold": round(search["threshold"], 3), "matchThreshold": round(match["threshold"], 3)},
        "euclidean": {"searchThreshold": round(euclid(search)["threshold"], 3), "matchThreshold": round(euclid(match)["threshold"], 3)},
    }
    log(f"thresholds {json.dumps(thresholds)}; match {json.dumps(rounded(match))}; search {json.dumps(rounded(search))}")

    log("parity fixtures")
    parity = write_parity(out, model, mean, std, te_img, te_y, args.seed)

    elapsed = time.time() - t_start
    metrics = {
        "model": "fashion-resnet",
        "version": 1,
        "cleanTest": {
            **rounded(clean),
            "queries": len(te_y),
            "protocol": "Fashion-MNIST test split (10,000 images), each image queried against the other 9,999 (cosine, leave-one-out); relevant = same category. Recall@k: a relevant item in the top k. mAP@R: Musgrave et al. 2020. kNN accuracy: majority vote of the 10 nearest training-split embeddings.",
        },
        "validation": {
            "clean": rounded(val_metrics),
            "photoViews": rounded(val_photo),
            "protocol": "5,000 images held out of the training split (500 per class). photoViews: one synthetic shopper-photo view per image queried against the 5,000 clean images; productRecall@k = its own image in the top k.",
        },
        "thresholds": {
            "cosine": {"search": rounded(search), "match": rounded(match)},
            "protocol": "Chosen on the validation split only: F1-maximising cosine threshold over all (photo view, clean image) pairs; match = same image, search = same category. Euclidean = sqrt(2 - 2 cos).",
        },
        "training": {
            "epochs": args.epochs,
            "trainSeconds": round(train_seconds),
            "totalSeconds": round(elapsed),
            "machine": f"{platform.processor() or platform.machine()}, {args.threads} threads, torch {torch.__version__}",
            "date": datetime.date.today().isoformat(),
            "seed": args.seed,
            "history": history,
        },
        "parity": parity,
    }
    prev = out / "metrics.json"
    if prev.exists():
        old = json.loads(prev.read_text())
        if "realWorld" in old:
            # The real-world set is embedded by the TypeScript package (evaluate_realworld.py); a
            # retrain invalidates those numbers, so keep them only as stale until re-measured.
            metrics["realWorldStale"] = old["realWorld"]
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")

    manifest = {
        "id": "fashion-resnet",
        "version": 1,
        "description": "ResNet (6 residual blocks, 16-64-128 channels) trained here on Fashion-MNIST for product retrieval: 128-d L2-normalised embeddings; dims 0-95 carry the category (weight 0.8 of the cosine), dims 96-127 tell items apart (0.2). Retrain: tools/model/train.py.",
        "license": "Apache-2.0 (weights trained from Fashion-MNIST, MIT)",
        "file": "model.onnx",
        "sha256": sha256(onnx_path),
        "bytes": onnx_path.stat().st_size,
        "input": {
            "name": "image",
            "layout": "NCHW",
            "size": 28,
            "channels": 1,
            "colour": "luma-bt601",
            "background": "white",
            "polarity": "bright-on-dark",
            "fit": "trim-fit-pad",
            "trim": True,
            "trimTolerance": 0.1,
            "trimMinLineFraction": 0.01,
            "workingSize": 256,
            "mean": [round(mean, 6)],
            "std": [round(std, 6)],
        },
        "output": {"name": "embedding", "dims": args.dims, "normalize": True},
        "classes": CLASSES,
        "metrics": {"cleanTest": metrics["cleanTest"], "validation": metrics["validation"]},
        "defaults": thresholds,
    }
    (out / "model.json").write_text(json.dumps(manifest, indent=2) + "\n")
    log(f"done in {elapsed / 60:.1f} min (training {train_seconds / 60:.1f} min)")


def write_parity(out: Path, model, mean, std, te_img, te_y, seed):
    """A few dozen test images as PNG files, in the shapes a catalog sends (raw grey, dark product
    on white in colour and enlarged with margins, transparent background), with the embeddings
    PyTorch computes for them through preprocess.py. The TypeScript test must reproduce them."""
    from PIL import Image

    pdir = out / "parity"
    pdir.mkdir(parents=True, exist_ok=True)
    for old in pdir.glob("*.png"):
        old.unlink()
    rng = np.random.default_rng(seed)
    picks = [int(i) for c in range(10) for i in rng.choice(np.nonzero(te_y.numpy() == c)[0], 3, replace=False)]
    refs = []
    for n, i in enumerate(picks):
        src = te_img[i]
        kind = ["grey", "catalog", "alpha"][n % 3]
        v = src.astype(np.float64) / 255.0
        colour = rng.uniform(0.0, 0.6, size=3)
        if kind == "grey":
            img = Image.fromarray(src, "L")
        elif kind == "catalog":
            rgb = (1 - v[..., None]) * 255 + v[..., None] * colour * 255
            img = Image.fromarray(np.round(rgb).astype(np.uint8), "RGB")
            f = int(rng.integers(2, 6))
            img = img.resize((28 * f, 28 * f), Image.NEAREST)
            m = [int(x) for x in rng.integers(0, 24, 4)]
            canvas = Image.new("RGB", (img.width + m[0] + m[1], img.height + m[2] + m[3]), (255, 255, 255))
            canvas.paste(img, (m[0], m[2]))
            img = canvas
        else:
            rgba = np.zeros((28, 28, 4), dtype=np.uint8)
            rgba[..., :3] = np.round(colour * 255).astype(np.uint8)
            rgba[..., 3] = src
            img = Image.fromarray(rgba, "RGBA").resize((84, 84), Image.NEAREST)
        name = f"{n:02d}-{kind}-{CLASSES[int(te_y[i])].split('/')[0].replace(' ', '-').lower()}.png"
        img.save(pdir / name)
        # Read back the file's pixels, as the TypeScript side will.
        arr = read_flattened(pdir / name)
        x = torch.from_numpy(preprocess(arr))[None, None]
        with torch.no_grad():
            e = model.embedding((x - mean) / std)[0]
        refs.append({"file": name, "label": CLASSES[int(te_y[i])], "testIndex": i, "embedding": [round(float(t), 7) for t in e]})
    (pdir / "reference.json").write_text(json.dumps({"model": "fashion-resnet", "version": 1, "images": refs}) + "\n")
    return {"images": len(refs), "requirement": "cosine >= 0.999 between PyTorch and @lookalike/inference"}


if __name__ == "__main__":
    main()
