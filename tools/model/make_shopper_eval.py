#!/usr/bin/python3
"""Build the shopper-photo evaluation set: colour variants, cluttered photos, two-product photos.

    /usr/bin/python3 tools/model/make_shopper_eval.py                     # test split (the reported figures)
    /usr/bin/python3 tools/model/make_shopper_eval.py --split validation  # held-out training items (for choices)

Deterministic (seeded). The `test` set is built from the Fashion-MNIST TEST split, which no model
here is trained on; the `validation` set from the 5,000 training items that train.py holds out
of the embedder's training, and it is the only one used to choose anything (colour weight,
thresholds). (The detector holds out its own 5,000; it may have seen validation-set items.) Output under .data/shopper-eval/<split>/:

    catalog/<sku>.jpg    one merchant catalog image per SKU: every design in 3 colours = 3 SKUs,
                         the product on white, 300-800 px, margins, JPEG q85-95
    photos/<n>.jpg       one cluttered shopper photo per SKU: the product fills 1/3 to 2/3 of the
                         frame, on a textured non-white surface, with 1-2 other objects beside
                         it, a white-balance cast, exposure change, shadows, noise, JPEG q60-85
    multi/<n>.jpg        photos of two products of different categories (and 0-2 distractors)
    index.json           SKUs, photos, match pairs and multi-product photos with their labels

Match pairs, three per photo: (photo, its own SKU's catalog image) = same product; (photo, the
same design in another colour) and (photo, another design of the same category) = not.
"""
from __future__ import annotations

import argparse
import io
import json
import sys
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scenes import COLOUR_NAMES, PALETTE, catalog_rgb, render_scene  # noqa: E402
from train import CLASSES, ROOT, load_split  # noqa: E402
from train_detector import embedder_validation  # noqa: E402


def catalog_image(item: np.ndarray, colour, rng) -> Image.Image:
    product = Image.fromarray(catalog_rgb(item, colour))
    side = int(rng.uniform(300, 800))
    fill = rng.uniform(0.65, 0.9)
    w, h = (side, int(side * rng.choice([1.0, 0.75]))) if rng.random() < 0.5 else (int(side * 0.75), side)
    p = int(min(w, h) * fill)
    canvas = Image.new("RGB", (w, h), (255, 255, 255))
    canvas.paste(product.resize((p, p), Image.BICUBIC), ((w - p) // 2 + int(rng.integers(-5, 6)), (h - p) // 2))
    return canvas


def jpeg(img: np.ndarray | Image.Image, path: Path, quality: int) -> None:
    (Image.fromarray(img) if isinstance(img, np.ndarray) else img).save(path, "JPEG", quality=quality)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=Path("/usr/share/datasets/fashion-mnist"))
    ap.add_argument("--split", choices=["test", "validation"], default="test")
    ap.add_argument("--designs-per-class", type=int, default=None, help="default: 30 (test), 15 (validation)")
    ap.add_argument("--seed", type=int, default=None)
    args = ap.parse_args()
    per_class = args.designs_per_class or (30 if args.split == "test" else 15)
    seed = args.seed if args.seed is not None else (4242 if args.split == "test" else 2424)
    out = ROOT / ".data" / "shopper-eval" / args.split
    for d in ("catalog", "photos", "multi"):
        (out / d).mkdir(parents=True, exist_ok=True)
    if args.split == "test":
        images, labels = load_split(args.data, "t10k")
        pool = np.arange(len(labels))
    else:
        images, labels = load_split(args.data, "train")
        pool = embedder_validation(labels)
    rng = np.random.default_rng(seed)
    designs = [int(i) for c in range(10) for i in rng.choice(pool[labels[pool] == c], per_class, replace=False)]

    skus = []
    for d, i in enumerate(designs):
        for colour in rng.choice(COLOUR_NAMES, 3, replace=False):
            sku = f"SKU-{len(skus):04d}"
            name = f"catalog/{sku}.jpg"
            jpeg(catalog_image(images[i], PALETTE[str(colour)], rng), out / name, int(rng.integers(85, 96)))
            skus.append({"sku": sku, "design": d, "index": i, "label": int(labels[i]), "class": CLASSES[int(labels[i])],
                         "colour": str(colour), "catalog": name})
    by_design = {}
    for s in skus:
        by_design.setdefault(s["design"], []).append(s)
    print(f"{len(skus)} SKUs ({len(designs)} designs x 3 colours)", flush=True)

    photos, pairs = [], []
    for n, s in enumerate(skus):
        w, h = (640, 480) if rng.random() < 0.5 else (480, 640)
        img, boxes = render_scene(rng, [images[s["index"]]], [PALETTE[s["colour"]]], w, h,
                                  scale=(1 / 3, 2 / 3), distractors=(1, 2))
        name = f"photos/{n:04d}.jpg"
        jpeg(img, out / name, int(rng.integers(60, 86)))
        photos.append({"file": name, "sku": s["sku"], "box": boxes[0]})
        other_colour = str(rng.choice([o["sku"] for o in by_design[s["design"]] if o["sku"] != s["sku"]]))
        same_cat = [o["sku"] for o in skus if o["label"] == s["label"] and o["design"] != s["design"]]
        pairs += [{"photo": name, "sku": s["sku"], "kind": "same"},
                  {"photo": name, "sku": other_colour, "kind": "otherColour"},
                  {"photo": name, "sku": str(rng.choice(same_cat)), "kind": "otherDesign"}]
        if (n + 1) % 150 == 0:
            print(f"photos {n + 1}/{len(skus)}", flush=True)

    multi = []
    for n in range(len(designs)):
        a = skus[int(rng.integers(len(skus)))]
        b = skus[int(rng.choice([k for k, o in enumerate(skus) if o["label"] != a["label"]]))]
        w, h = (640, 480) if rng.random() < 0.5 else (480, 640)
        img, boxes = render_scene(rng, [images[a["index"]], images[b["index"]]], [PALETTE[a["colour"]], PALETTE[b["colour"]]],
                                  w, h, scale=(0.3, 0.6), distractors=(0, 2))
        name = f"multi/{n:04d}.jpg"
        jpeg(img, out / name, int(rng.integers(60, 86)))
        multi.append({"file": name, "skus": [a["sku"], b["sku"]], "boxes": boxes})
    index = {"split": args.split, "seed": seed, "skus": skus, "photos": photos, "pairs": pairs, "multi": multi}
    (out / "index.json").write_text(json.dumps(index, indent=1) + "\n")
    print(f"wrote {len(skus)} SKUs, {len(photos)} photos, {len(pairs)} pairs, {len(multi)} two-product photos to {out}")


if __name__ == "__main__":
    main()
