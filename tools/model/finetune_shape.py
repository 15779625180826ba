#!/usr/bin/python3
"""Fine-tune fashion-resnet v1's shape network on shopper-photo crops (transfer learning).

    /usr/bin/python3 tools/model/finetune_shape.py [--items 30000] [--epochs 4]

Why: measured on the validation shopper set (choose_colour_weight.py, true boxes), v1 on a
product cropped out of a cluttered photo (textured surface, shadow, white-balance cast, JPEG)
reaches category precision@10 0.76 where clean catalog images reach ~0.9: background
subtraction cannot remove a textured surface, so the network sees texture it never trained on.
This run starts from v1's weights (its ONNX graph replayed as a trainable module, BatchNorms
folded) and trains on pairs of (catalog image, crop of the same item in a rendered scene), the
crop taken as the API takes it: the product's box grown by 6% per side, jittered like a
detector's box, then preprocess.py. Half of every batch keeps v1's own objective and views, so
clean retrieval is kept.

Data: the Fashion-MNIST TRAINING split minus train.py's 5,000 validation items. Objective as
v1: CosFace (scale 20, margin 0.1) on the category part, proxies initialised at each class's
mean v1 embedding, + 0.5 x InfoNCE (temperature 0.2) on the item part between the two views.
Writes .data/v2-train/shape.pt (the state of the replayed graph) and a log of the run.
"""
from __future__ import annotations

import argparse
import datetime
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
import torch.nn.functional as F
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_fashion_resnet_v2 import V1, OnnxCnn, v1_head  # noqa: E402
from preprocess import preprocess  # noqa: E402
from retrieval_metrics import retrieval_metrics  # noqa: E402
from scenes import COLOUR_NAMES, PALETTE, catalog_rgb, render_scene  # noqa: E402
from train import PREPROCESS_VERSION, ROOT, CosFace, info_nce, light_view, load_split, photo_view, preprocess_all  # noqa: E402
from train_detector import embedder_validation  # noqa: E402

MARGIN = 0.06


def log(msg: str) -> None:
    print(f"[{datetime.datetime.now().strftime('%H:%M:%S')}] {msg}", flush=True)


def pair(args):
    """(catalog view, scene-crop view) of one item, both through preprocess.py."""
    seed, item = args
    rng = np.random.default_rng(seed)
    colour = PALETTE[COLOUR_NAMES[int(rng.integers(len(COLOUR_NAMES)))]]
    cat = preprocess(catalog_rgb(item, colour))
    w, h = (200, 150) if rng.random() < 0.5 else (150, 200)
    img, boxes = render_scene(rng, [item], [colour], w, h, scale=(0.25, 0.75), distractors=(0, 2), studio=0.1)
    box = boxes[0]
    if box is None:
        return cat, cat
    x0, y0, x1, y1 = box
    bw, bh = x1 - x0, y1 - y0
    # A detector's box is not the true box: jitter each side by up to 5% of the size.
    j = rng.uniform(-0.05, 0.05, 4)
    x0, x1 = x0 - bw * (MARGIN + j[0]), x1 + bw * (MARGIN + j[1])
    y0, y1 = y0 - bh * (MARGIN + j[2]), y1 + bh * (MARGIN + j[3])
    x0, y0 = max(0, int(round(x0))), max(0, int(round(y0)))
    x1, y1 = min(w, int(round(x1))), min(h, int(round(y1)))
    crop = Image.fromarray(img[y0:y1, x0:x1])
    buf = io.BytesIO()
    crop.save(buf, "JPEG", quality=int(rng.integers(50, 92)))
    crop = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))
    return cat, preprocess(crop)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=Path("/usr/share/datasets/fashion-mnist"))
    ap.add_argument("--work", type=Path, default=ROOT / ".data" / "v2-train")
    ap.add_argument("--items", type=int, default=30000)
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--batch", type=int, default=64, help="scene pairs per step (+ as many v1 pairs)")
    ap.add_argument("--lr", type=float, default=0.003, help="v1 trained at 0.1; a fine-tune starts from its minimum")
    ap.add_argument("--seed", type=int, default=20261202)
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(2)
    t_start = time.time()
    manifest = json.loads((V1 / "model.json").read_text())
    mean, std = manifest["input"]["mean"][0], manifest["input"]["std"][0]

    images, labels = load_split(args.data, "train")
    val = embedder_validation(labels)
    fit = np.setdiff1d(np.arange(len(labels)), val)
    g = np.random.default_rng(args.seed)
    picks = g.choice(fit, args.items, replace=False)
    cache = args.work / f"pairs-{args.items}-{args.seed}.npz"
    if cache.exists():
        z = np.load(cache)
        cat_v, crop_v = z["cat"], z["crop"]
    else:
        t = time.time()
        with mp.Pool(2) as p:
            res = p.map(pair, [(int(g.integers(2**31)), images[i]) for i in picks], chunksize=128)
        cat_v = np.stack([r[0] for r in res]).astype(np.float32)
        crop_v = np.stack([r[1] for r in res]).astype(np.float32)
        args.work.mkdir(parents=True, exist_ok=True)
        np.savez(cache, cat=cat_v, crop=crop_v)
        log(f"rendered {len(picks)} pairs in {time.time() - t:.0f} s")
    pair_y = torch.from_numpy(labels[picks].astype(np.int64))
    pre = preprocess_all(images, ROOT / ".data" / "model-train" / f"train-pre-v{PREPROCESS_VERSION}.npy")
    clean = torch.from_numpy(pre[fit])[:, None]
    clean_y = torch.from_numpy(labels[fit].astype(np.int64))
    val_x = torch.from_numpy(pre[val])[:, None]
    val_y = torch.from_numpy(labels[val].astype(np.int64))
    cat_t = torch.from_numpy(cat_v)[:, None]
    crop_t = torch.from_numpy(crop_v)[:, None]

    cnn = OnnxCnn(V1 / "model.onnx")

    @torch.no_grad()
    def embed(x):
        cnn.eval()
        return torch.cat([v1_head(cnn((x[k : k + 1000] - mean) / std)) for k in range(0, len(x), 1000)])

    def probe():
        e = embed(val_x)
        m = retrieval_metrics(e, val_y)
        return {"val recall@1": round(float(m["recall@1"]), 4), "val mAP@R": round(float(m["mAP@R"]), 4)}

    before = probe()
    log(f"v1 before fine-tuning: {before}")
    # CosFace proxies start at each class's mean category part, so the first steps do not undo v1.
    with torch.no_grad():
        e = embed(clean[:20000])
        cosface = CosFace(96, 10, 20.0, 0.1)
        cosface.w.copy_(torch.stack([F.normalize(e[clean_y[:20000] == c, :96].mean(0), dim=0) for c in range(10)]))
    params = list(cnn.parameters())
    opt = torch.optim.SGD([{"params": params, "weight_decay": 5e-5}, {"params": cosface.parameters(), "weight_decay": 0}],
                          lr=args.lr, momentum=0.9, nesterov=True)
    steps_per_epoch = len(picks) // args.batch
    total = steps_per_epoch * args.epochs
    gen = torch.Generator().manual_seed(args.seed)
    history = []
    train_seconds = 0.0
    for epoch in range(args.epochs):
        cnn.train()
        t0 = time.time()
        order = torch.randperm(len(picks), generator=gen)
        sums = np.zeros(2)
        for s in range(steps_per_epoch):
            step = epoch * steps_per_epoch + s
            lr = args.lr * min(1.0, (step + 1) / 200) * 0.5 * (1 + math.cos(math.pi * step / total))
            for grp in opt.param_groups:
                grp["lr"] = lr
            idx = order[s * args.batch : (s + 1) * args.batch]
            cidx = torch.randint(len(clean), (args.batch,), generator=gen)
            a = torch.cat([light_view(cat_t[idx].clone(), gen), light_view(clean[cidx].clone(), gen)])
            b = torch.cat([light_view(crop_t[idx].clone(), gen), photo_view(clean[cidx].clone(), gen)])
            y = torch.cat([pair_y[idx], clean_y[cidx]])
            with torch.autocast("cpu", dtype=torch.bfloat16):
                ea = cnn((a - mean) / std)
                eb = cnn((b - mean) / std)
            ea, eb = ea.float(), eb.float()
            l_cls = 0.5 * (cosface(ea[:, :96], y) + cosface(eb[:, :96], y))
            l_inst = info_nce(ea[:, 96:], eb[:, 96:], 0.2)
            loss = l_cls + 0.5 * l_inst
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sums += [l_cls.item(), l_inst.item()]
        dt = time.time() - t0
        train_seconds += dt
        entry = {"epoch": epoch + 1, "cls": round(sums[0] / steps_per_epoch, 4), "inst": round(sums[1] / steps_per_epoch, 4),
                 "seconds": round(dt, 1), **probe()}
        history.append(entry)
        log(json.dumps(entry))
    args.work.mkdir(parents=True, exist_ok=True)
    torch.save(cnn.state_dict(), args.work / "shape.pt")
    run = {"from": "fashion-resnet-v1", "items": len(picks), "epochs": args.epochs, "batch": f"{args.batch} scene pairs + {args.batch} v1 pairs",
           "lr": args.lr, "seed": args.seed, "before": before, "history": history, "trainSeconds": round(train_seconds),
           "totalSeconds": round(time.time() - t_start),
           "machine": f"{platform.machine()}, {torch.get_num_threads()} threads, torch {torch.__version__}",
           "date": datetime.date.today().isoformat()}
    (args.work / "shape.json").write_text(json.dumps(run, indent=2) + "\n")
    log(f"done: {json.dumps(run)}")


if __name__ == "__main__":
    main()
