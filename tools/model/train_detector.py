#!/usr/bin/python3
"""Train the bundled `product-detector` and export it to ONNX.

    /usr/bin/python3 tools/model/train_detector.py            # full run (README: the time it takes)
    /usr/bin/python3 tools/model/train_detector.py --pilot    # a few steps, to measure speed
    /usr/bin/python3 tools/model/train_detector.py --export-only   # re-export the checkpoint

Outputs (models/product-detector/): model.onnx, model.json (manifest), metrics.json, parity/
(PNG scenes + the boxes and heatmap peaks PyTorch computes for them). Scratch files go to
.data/detector-train/ (gitignored).

What it does and why:
* Data: synthetic shopper photos (scenes.py) built from the Fashion-MNIST TRAINING split only:
  textured surfaces (one scene in six a plain light backdrop, as catalog shots are), one to three products at 20-80% of the frame, distractors that are not
  products, white balance, exposure, shadows, noise, JPEG. 5,000 training items (500 per
  class, seeded) are held out for validation scenes; the test split is never seen.
* Model: a CenterNet-style detector ("Objects as Points", Zhou et al. 2019): a small residual
  CNN with a feature-pyramid neck predicts, on a 32x32 grid (stride 4) of the 128x128 input,
  a heatmap per category whose peaks are product centres, the box size and a sub-cell offset.
  No anchors and no NMS inside the model: the graph zeroes every heatmap cell that is not the
  maximum of its 3x3 neighbourhood, so decoding in TypeScript is a top-k and a threshold.
* Input: the photo resized so its longer side is 128 px, placed at the top left of a 128x128
  canvas padded with mid-grey (letterbox), RGB scaled to [0, 1], mean 0.5 / std 0.25.
"""
from __future__ import annotations

import argparse
import datetime
import hashlib
import io
import json
import math
import multiprocessing as mp
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scenes import COLOUR_NAMES, PALETTE, render_scene  # noqa: E402
from train import CLASSES, ROOT, load_split  # noqa: E402

SIZE = 128
STRIDE = 4
GRID = SIZE // STRIDE
MEAN, STD = 0.5, 0.25
PAD = 0.5  # letterbox padding (mid-grey): 0 after normalisation
SCENE_VERSION = 2  # bump when scenes.py changes, to invalidate the cache


def log(msg: str) -> None:
    print(f"[{datetime.datetime.now().strftime('%H:%M:%S')}] {msg}", flush=True)


# ---------------------------------------------------------------------------------------- data

def held_out(labels: np.ndarray, seed: int) -> np.ndarray:
    """The detector's own validation items: 5,000 training items (500 per class, seeded), never
    in its training scenes."""
    g = np.random.default_rng(seed)
    return np.concatenate([g.choice(np.nonzero(labels == c)[0], 500, replace=False) for c in range(10)])


def embedder_validation(labels: np.ndarray, seed: int = 20240601) -> np.ndarray:
    """The 5,000 training items train.py holds out of the embedder's training (its validation
    split): the same torch permutation, so shopper-set choices are made on items the embedder
    never trained on."""
    g = torch.Generator().manual_seed(seed)
    y = torch.from_numpy(labels.astype(np.int64))
    perm = torch.randperm(len(y), generator=g)
    return torch.cat([perm[y[perm] == c][:500] for c in range(10)]).sort().values.numpy()


def letterbox(img: Image.Image) -> tuple[np.ndarray, float]:
    """PIL image -> HxWx3 float [0,1] letterboxed to SIZE (top-left), and the scale used."""
    w, h = img.size
    s = SIZE / max(w, h)
    nw, nh = max(1, round(w * s)), max(1, round(h * s))
    if (nw, nh) != (w, h):
        img = img.resize((nw, nh), Image.BILINEAR)
    out = np.full((SIZE, SIZE, 3), PAD)
    out[:nh, :nw] = np.asarray(img.convert("RGB")).astype(np.float64) / 255.0
    return out, s


def make_scene(args):
    """One training/validation scene at SIZE: (uint8 image, boxes [n, 5] = x0 y0 x1 y1 class)."""
    seed, items, labels = args
    rng = np.random.default_rng(seed)
    n = len(items)
    aspect = rng.choice([1.0, 0.75, 4 / 3])
    w, h = (SIZE, int(SIZE * aspect)) if aspect <= 1 else (int(SIZE / aspect), SIZE)
    colours = [PALETTE[COLOUR_NAMES[int(rng.integers(len(COLOUR_NAMES)))]] for _ in range(n)]
    # One scene in six on a plain light backdrop: catalog-style uploads must be detected too.
    img, boxes = render_scene(rng, list(items), colours, w, h, studio=1 / 6)
    pil = Image.fromarray(img)
    if rng.random() < 0.3:
        from PIL import ImageFilter
        pil = pil.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 0.9)))
    if rng.random() < 0.6:
        buf = io.BytesIO()
        pil.save(buf, "JPEG", quality=int(rng.integers(45, 92)))
        pil = Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
    canvas = np.full((SIZE, SIZE, 3), int(PAD * 255), np.uint8)
    canvas[:h, :w] = np.asarray(pil)
    out = [[*b, int(c)] for b, c in zip(boxes, labels) if b is not None]
    return canvas, np.array(out, dtype=np.float32).reshape(-1, 5)


def build_scenes(images, labels, pool_idx, count, seed, cache: Path):
    if cache.exists():
        z = np.load(cache, allow_pickle=True)
        return z["images"], list(z["boxes"])
    g = np.random.default_rng(seed)
    jobs = []
    for k in range(count):
        n = int(g.choice([1, 1, 2, 2, 3]))
        idx = g.choice(pool_idx, n, replace=False)
        jobs.append((int(g.integers(2**31)), images[idx], labels[idx]))
    t = time.time()
    with mp.Pool(2) as p:
        res = p.map(make_scene, jobs, chunksize=64)
    log(f"rendered {count} scenes in {time.time() - t:.0f} s")
    ims = np.stack([r[0] for r in res])
    boxes = [r[1] for r in res]
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez(cache, images=ims, boxes=np.array(boxes, dtype=object))
    return ims, boxes


def targets(boxes_list, classes: int):
    """CenterNet targets: gaussian heatmaps, and size/offset at each object's centre cell."""
    b = len(boxes_list)
    hm = np.zeros((b, classes, GRID, GRID), np.float32)
    wh = np.zeros((b, 2, GRID, GRID), np.float32)
    off = np.zeros((b, 2, GRID, GRID), np.float32)
    mask = np.zeros((b, 1, GRID, GRID), np.float32)
    ys, xs = np.mgrid[0:GRID, 0:GRID].astype(np.float32)
    for i, boxes in enumerate(boxes_list):
        for x0, y0, x1, y1, c in boxes:
            cx, cy = (x0 + x1) / 2 / STRIDE, (y0 + y1) / 2 / STRIDE
            bw, bh = (x1 - x0) / STRIDE, (y1 - y0) / STRIDE
            ix, iy = min(int(cx), GRID - 1), min(int(cy), GRID - 1)
            sx, sy = max(bw / 6, 0.5), max(bh / 6, 0.5)
            g = np.exp(-((xs - ix) ** 2) / (2 * sx * sx) - ((ys - iy) ** 2) / (2 * sy * sy))
            hm[i, int(c)] = np.maximum(hm[i, int(c)], g)
            wh[i, :, iy, ix] = ((x1 - x0) / SIZE, (y1 - y0) / SIZE)
            off[i, :, iy, ix] = (cx - ix, cy - iy)
            mask[i, 0, iy, ix] = 1
    return [torch.from_numpy(a) for a in (hm, wh, off, mask)]


# --------------------------------------------------------------------------------------- model

def cbr(cin, cout, stride=1):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.a = cbr(c, c)
        self.b = nn.Sequential(nn.Conv2d(c, c, 3, 1, 1, bias=False), nn.BatchNorm2d(c))

    def forward(self, x):
        return F.relu(x + self.b(self.a(x)))


class Detector(nn.Module):
    def __init__(self, classes: int):
        super().__init__()
        self.c2 = nn.Sequential(cbr(3, 16, 2), cbr(16, 32, 2), Block(32))  # 32x32
        self.c3 = nn.Sequential(cbr(32, 64, 2), Block(64))  # 16x16
        self.c4 = nn.Sequential(cbr(64, 128, 2), Block(128), Block(128))  # 8x8
        self.l4 = nn.Conv2d(128, 64, 1)
        self.l3 = nn.Conv2d(64, 64, 1)
        self.l2 = nn.Conv2d(32, 64, 1)
        self.s3 = cbr(64, 64)
        self.s2 = cbr(64, 64)
        self.hm = nn.Sequential(cbr(64, 64), nn.Conv2d(64, classes, 1))
        self.wh = nn.Sequential(cbr(64, 32), nn.Conv2d(32, 2, 1))
        self.off = nn.Sequential(cbr(64, 32), nn.Conv2d(32, 2, 1))
        nn.init.constant_(self.hm[-1].bias, -2.19)  # CenterNet: initial focal-loss prior 0.1

    def forward(self, x):
        c2 = self.c2(x)
        c3 = self.c3(c2)
        c4 = self.c4(c3)
        p3 = self.s3(F.interpolate(self.l4(c4), scale_factor=2.0, mode="nearest") + self.l3(c3))
        p2 = self.s2(F.interpolate(p3, scale_factor=2.0, mode="nearest") + self.l2(c2))
        return self.hm(p2), self.wh(p2), self.off(p2)


class Exported(nn.Module):
    """The ONNX graph: sigmoid heatmap with non-peaks zeroed, sizes (fractions of the input
    side), offsets (fractions of a cell)."""

    def __init__(self, model: Detector):
        super().__init__()
        self.model = model

    def forward(self, image):
        hm, wh, off = self.model(image)
        hm = torch.sigmoid(hm)
        peak = (F.max_pool2d(hm, 3, 1, 1) == hm).float()
        return hm * peak, torch.sigmoid(wh), torch.sigmoid(off)


def focal(pred_logits, gt):
    p = torch.sigmoid(pred_logits).clamp(1e-4, 1 - 1e-4)
    pos = gt.eq(1).float()
    neg = 1 - pos
    pos_loss = torch.log(p) * (1 - p) ** 2 * pos
    neg_loss = torch.log(1 - p) * p**2 * (1 - gt) ** 4 * neg
    n = pos.sum().clamp(min=1)
    return -(pos_loss.sum() + neg_loss.sum()) / n


def to_input(images_u8: np.ndarray) -> torch.Tensor:
    x = torch.from_numpy(images_u8).permute(0, 3, 1, 2).float() / 255.0
    return (x - MEAN) / STD


# ------------------------------------------------------------------------------------ decoding

def decode(peaks, wh, off, scale=1.0, min_score=0.3, max_objects=10, iou=0.5):
    """The same decoding as packages/inference (detector.ts): top-k peaks above min_score,
    boxes in input pixels / scale, class-agnostic NMS."""
    c, gh, gw = peaks.shape
    flat = peaks.reshape(-1)
    order = np.argsort(-flat)[: max_objects * 4]
    dets = []
    for k in order:
        s = float(flat[k])
        if s < min_score:
            break
        cls, rest = divmod(int(k), gh * gw)
        y, x = divmod(rest, gw)
        cx, cy = (x + off[0, y, x]) * STRIDE, (y + off[1, y, x]) * STRIDE
        w, h = wh[0, y, x] * SIZE, wh[1, y, x] * SIZE
        box = [(cx - w / 2) / scale, (cy - h / 2) / scale, (cx + w / 2) / scale, (cy + h / 2) / scale]
        if all(box_iou(box, d["box"]) <= iou for d in dets):
            dets.append({"box": box, "score": s, "class": cls})
        if len(dets) == max_objects:
            break
    return dets


def box_iou(a, b):
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    ua = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / max(ua, 1e-9)


def average_precision(dets_per_image, gts_per_image, iou=0.5):
    """Class-agnostic AP at IoU `iou` (VOC-style, all-point interpolation), recall at the
    decoding threshold, and the category accuracy of matched boxes."""
    scored = []
    total = sum(len(g) for g in gts_per_image)
    correct_cls = matched = 0
    for dets, gts in zip(dets_per_image, gts_per_image):
        used = set()
        for d in sorted(dets, key=lambda d: -d["score"]):
            best, bi = 0.0, -1
            for j, g in enumerate(gts):
                if j in used:
                    continue
                v = box_iou(d["box"], g[:4])
                if v > best:
                    best, bi = v, j
            hit = best >= iou
            if hit:
                used.add(bi)
                matched += 1
                correct_cls += int(d["class"] == int(gts[bi][4]))
            scored.append((d["score"], hit))
    scored.sort(key=lambda t: -t[0])
    tp = np.cumsum([h for _, h in scored])
    fp = np.cumsum([not h for _, h in scored])
    rec = tp / max(total, 1)
    prec = tp / np.maximum(tp + fp, 1)
    ap = 0.0
    mrec = np.concatenate([[0], rec, [1]])
    mpre = np.concatenate([[1], prec, [0]])
    for i in range(len(mpre) - 2, -1, -1):
        mpre[i] = max(mpre[i], mpre[i + 1])
    for i in range(1, len(mrec)):
        ap += (mrec[i] - mrec[i - 1]) * mpre[i]
    return {"AP@0.5": round(float(ap), 4), "recall": round(matched / max(total, 1), 4),
            "precision": round(float(prec[-1]) if len(prec) else 0.0, 4),
            "categoryAccuracy": round(correct_cls / max(matched, 1), 4), "objects": total}


@torch.no_grad()
def predict(model, images_u8, batch=256):
    exp = Exported(model).eval()
    outs = []
    for i in range(0, len(images_u8), batch):
        p, wh, off = exp(to_input(images_u8[i : i + batch]))
        outs.extend(zip(p.numpy(), wh.numpy(), off.numpy()))
    return outs


def evaluate(model, images, boxes, min_score):
    outs = predict(model, images)
    dets = [decode(p, wh, off, min_score=min_score) for p, wh, off in outs]
    return average_precision(dets, [b.tolist() for b in boxes])


# ----------------------------------------------------------------------------------------- main

def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=Path("/usr/share/datasets/fashion-mnist"))
    ap.add_argument("--out", type=Path, default=ROOT / "models" / "product-detector")
    ap.add_argument("--work", type=Path, default=ROOT / ".data" / "detector-train")
    ap.add_argument("--scenes", type=int, default=24000)
    ap.add_argument("--val-scenes", type=int, default=1500)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--seed", type=int, default=20261202)
    ap.add_argument("--val-seed", type=int, default=20240601, help="seed of the held-out validation items")
    ap.add_argument("--min-score", type=float, default=0.3)
    ap.add_argument("--pilot", action="store_true")
    ap.add_argument("--export-only", action="store_true")
    ap.add_argument("--untrained", action="store_true", help="export random weights (interface only)")
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(2)
    t_start = time.time()

    images, labels = load_split(args.data, "train")
    val_idx = held_out(labels, args.val_seed)
    train_idx = np.setdiff1d(np.arange(len(labels)), val_idx)
    model = Detector(len(CLASSES))
    ckpt = args.work / "checkpoint.pt"
    history: list[dict] = []
    train_seconds = 0.0
    if args.untrained:
        export(args, model, None, None, [], 0.0, t_start, trained=False)
        return
    n_scenes = 640 if args.pilot else args.scenes
    tr_im, tr_boxes = build_scenes(images, labels, train_idx, n_scenes, args.seed,
                                   args.work / f"train-v{SCENE_VERSION}-{n_scenes}.npz")
    va_im, va_boxes = build_scenes(images, labels, val_idx, args.val_scenes, args.seed + 1,
                                   args.work / f"val-v{SCENE_VERSION}-{args.val_scenes}.npz")
    if ckpt.exists() and not args.pilot:
        state = torch.load(ckpt)
        model.load_state_dict(state["model"])
        history, train_seconds = state["history"], state["train_seconds"]
    if not args.export_only:
        opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
        if ckpt.exists() and not args.pilot and "opt" in state:
            opt.load_state_dict(state["opt"])
        steps_per_epoch = math.ceil(len(tr_im) / args.batch)
        total = steps_per_epoch * args.epochs
        g = np.random.default_rng(args.seed + len(history))
        for epoch in range(len(history), 1 if args.pilot else args.epochs):
            model.train()
            t0 = time.time()
            order = g.permutation(len(tr_im))
            sums = np.zeros(3)
            steps = 0
            for s in range(steps_per_epoch):
                step = epoch * steps_per_epoch + s
                lr = args.lr * (min(1.0, (step + 1) / steps_per_epoch) * 0.5 * (1 + math.cos(math.pi * step / total)))
                for grp in opt.param_groups:
                    grp["lr"] = lr
                idx = order[s * args.batch : (s + 1) * args.batch]
                x = to_input(tr_im[idx])
                bx = [tr_boxes[i].copy() for i in idx]
                if True:  # horizontal flip, half the batch
                    flip = g.random(len(idx)) < 0.5
                    x[flip] = x[flip].flip(-1)
                    for k in np.nonzero(flip)[0]:
                        b = bx[k]
                        b[:, [0, 2]] = SIZE - b[:, [2, 0]]
                hm_t, wh_t, off_t, mask = targets(bx, len(CLASSES))
                with torch.autocast("cpu", dtype=torch.bfloat16):
                    hm, wh, off = model(x)
                hm, wh, off = hm.float(), wh.float(), off.float()
                n = mask.sum().clamp(min=1)
                l_hm = focal(hm, hm_t)
                l_wh = (torch.abs(torch.sigmoid(wh) - wh_t) * mask).sum() / n
                l_off = (torch.abs(torch.sigmoid(off) - off_t) * mask).sum() / n
                loss = l_hm + 5.0 * l_wh + l_off
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                sums += [l_hm.item(), l_wh.item(), l_off.item()]
                steps += 1
                if args.pilot and steps == min(20, steps_per_epoch):
                    log(f"pilot: {(time.time() - t0) / steps:.3f} s/step at batch {args.batch}")
                    return
            dt = time.time() - t0
            train_seconds += dt
            entry = {"epoch": epoch + 1, "hm": round(sums[0] / steps, 4), "wh": round(sums[1] / steps, 4),
                     "off": round(sums[2] / steps, 4), "seconds": round(dt, 1)}
            if (epoch + 1) % 2 == 0 or epoch + 1 == args.epochs:
                entry["val"] = evaluate(model, va_im, va_boxes, args.min_score)
            history.append(entry)
            log(json.dumps(entry))
            args.work.mkdir(parents=True, exist_ok=True)
            torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "history": history,
                        "train_seconds": train_seconds}, ckpt)
    export(args, model, va_im, va_boxes, history, train_seconds, t_start, trained=True)


def export(args, model, va_im, va_boxes, history, train_seconds, t_start, trained: bool) -> None:
    model.eval()
    args.out.mkdir(parents=True, exist_ok=True)
    onnx_path = args.out / "model.onnx"
    torch.onnx.export(Exported(model), torch.zeros(1, 3, SIZE, SIZE), str(onnx_path), opset_version=13,
                      input_names=["image"], output_names=["heatmap", "size", "offset"],
                      dynamic_axes={"image": {0: "batch"}, "heatmap": {0: "batch"}, "size": {0: "batch"}, "offset": {0: "batch"}})
    val = evaluate(model, va_im, va_boxes, args.min_score) if trained else None
    manifest = {
        "id": "product-detector",
        "version": 1,
        "kind": "detector",
        "description": ("CenterNet-style product detector trained here on synthetic shopper photos built from the "
                        "Fashion-MNIST training split (scenes.py): per-category heatmap peaks on a 32x32 grid "
                        "(stride 4) of a 128x128 letterboxed RGB input, box size and sub-cell offset. "
                        "Retrain: tools/model/train_detector.py."),
        "license": "Apache-2.0 (weights trained from Fashion-MNIST, MIT)",
        "file": "model.onnx",
        "sha256": sha256(onnx_path),
        "bytes": onnx_path.stat().st_size,
        "input": {"name": "image", "layout": "NCHW", "size": SIZE, "channels": 3, "colour": "rgb",
                  "fit": "letterbox", "pad": [PAD, PAD, PAD], "mean": [MEAN] * 3, "std": [STD] * 3},
        "output": {"heatmap": "heatmap", "size": "size", "offset": "offset", "stride": STRIDE},
        "classes": CLASSES,
        "decode": {"minScore": args.min_score, "maxObjects": 10, "nmsIoU": 0.5},
        "metrics": {"validation": val} if val else {},
    }
    (args.out / "model.json").write_text(json.dumps(manifest, indent=2) + "\n")
    if not trained:
        log(f"exported untrained {onnx_path}")
        return
    metrics = {
        "model": "product-detector", "version": 1,
        "validation": val,
        "protocol": (f"{len(va_im)} scenes of 5,000 training-split items held out of the detector's training "
                     "(500 per class, seeded), 1-3 products each: class-agnostic AP at IoU 0.5, recall/precision at "
                     f"the decoding threshold {args.min_score}, category accuracy of the matched boxes."),
        "training": {"epochs": len(history), "scenes": len(va_im) and args.scenes, "trainSeconds": round(train_seconds),
                     "totalSeconds": round(time.time() - t_start),
                     "machine": f"{platform.machine()}, {torch.get_num_threads()} threads, torch {torch.__version__}",
                     "date": datetime.date.today().isoformat(), "seed": args.seed, "history": history},
    }
    (args.out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    write_parity(args.out / "parity", model, va_im, args.min_score)
    log(f"exported {onnx_path}: {json.dumps(val)}")


def write_parity(out: Path, model, va_im, min_score) -> None:
    """A few validation scenes as PNG files (exactly 128x128, so no resampling differs between
    PIL and sharp) and what PyTorch computes for them."""
    out.mkdir(parents=True, exist_ok=True)
    picks = list(range(8))
    outs = predict(model, va_im[picks])
    ref = []
    for k, (p, wh, off) in zip(picks, outs):
        name = f"scene-{k}.png"
        Image.fromarray(va_im[k]).save(out / name)
        dets = decode(p, wh, off, min_score=min_score)
        ref.append({"file": name, "objects": [{"box": [round(v, 3) for v in d["box"]], "score": round(d["score"], 5),
                                               "class": d["class"]} for d in dets],
                    "heatmapMax": round(float(p.max()), 5),
                    # Every peak that could matter (>= 0.05, far below minScore): cell and score.
                    # Not the sum of all peaks: cells of equal value near 0 are peaks in one
                    # runtime and not the other (a tie in the 3x3 max), which decides nothing.
                    "peaks": [[int(c), int(y), int(x), round(float(p[c, y, x]), 5)]
                              for c, y, x in zip(*np.nonzero(p >= 0.05))]})
    (out / "reference.json").write_text(json.dumps({"size": SIZE, "scenes": ref}, indent=1) + "\n")


if __name__ == "__main__":
    main()
