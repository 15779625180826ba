#!/usr/bin/python3
"""Build the "real-world" evaluation set from the Fashion-MNIST TEST split.

Real catalogs differ from Fashion-MNIST: merchants upload dark products on white or light
backgrounds, in colour, 100 px to several thousand px, with margins; shoppers send phone photos,
larger, slightly rotated, cropped, tinted, blurred, JPEG-compressed, with margins and uneven
backgrounds, sometimes with an EXIF orientation. This script renders 1,000 test items (100 per
class, seeded) both ways, as image files:

    .data/realworld/catalog/<n>.{jpg,png,webp}   one merchant image per product (the gallery)
    .data/realworld/photos/<n>.jpg               one shopper photo per product (the queries)
    .data/realworld/index.json                   labels and file names

The files are then embedded by the real TypeScript package (embed_realworld.ts) and scored by
evaluate_realworld.py, so the numbers include sharp's decoding and preprocess.ts.

    /usr/bin/python3 tools/model/make_realworld.py
"""
from __future__ import annotations

import argparse
import io
import json
import math
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train import CLASSES, ROOT, load_split  # noqa: E402


def colourise(v: np.ndarray, colour: np.ndarray) -> np.ndarray:
    """Fashion-MNIST intensity (bright product on black) -> a product of `colour` on white."""
    v = v[..., None].astype(np.float64) / 255.0
    return (1 - v) * 255.0 + v * colour[None, None, :] * 255.0


def dark_colour(rng) -> np.ndarray:
    # Mostly dark-to-mid products (the common case), luma about 0-0.45 of full scale.
    base = rng.uniform(0.0, 0.45)
    return np.clip(base + rng.uniform(-0.2, 0.2, size=3), 0.0, 1.0)


def catalog_image(item: np.ndarray, colour: np.ndarray, rng) -> Image.Image:
    product = Image.fromarray(np.round(colourise(item, colour)).astype(np.uint8), "RGB")
    side = int(math.exp(rng.uniform(math.log(100), math.log(3000))))
    fill = rng.uniform(0.6, 0.95)
    aspect = rng.choice([1.0, 0.75, 4 / 3])
    w, h = (side, int(side / aspect)) if aspect >= 1 else (int(side * aspect), side)
    p = int(min(w, h) * fill)
    product = product.resize((p, p), Image.BICUBIC)
    canvas = Image.new("RGB", (w, h), (255, 255, 255))
    canvas.paste(product, (int(rng.uniform(0, w - p)), int(rng.uniform(0, h - p))))
    return canvas


def photo_image(item: np.ndarray, colour: np.ndarray, rng) -> tuple[Image.Image, int]:
    """A shopper's phone photo of the same product (same colour, under tinted light). Returns
    the image and its EXIF orientation."""
    tint = rng.uniform(0.85, 1.15, size=3)
    product = colourise(item, np.clip(colour * tint, 0, 1)) * tint[None, None, :]
    product_alpha = (item.astype(np.float64) / 255.0 > 0.02)
    side = int(rng.uniform(800, 2400))
    w, h = (side, int(side * 0.75)) if rng.random() < 0.5 else (int(side * 0.75), side)
    fill = rng.uniform(0.4, 0.8)
    p = int(min(w, h) * fill)
    # Background: a light surface with a tint and a gentle gradient (lighting falls off).
    bg_level = rng.uniform(185, 245)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    ang = rng.uniform(0, 2 * math.pi)
    grad = ((xx / w - 0.5) * math.cos(ang) + (yy / h - 0.5) * math.sin(ang)) * rng.uniform(0, 20)
    bg = (bg_level + grad)[..., None] * tint[None, None, :] * rng.uniform(0.95, 1.05, size=3)[None, None, :]
    canvas = Image.fromarray(np.clip(bg, 0, 255).astype(np.uint8), "RGB")
    prod_img = Image.fromarray(np.clip(product, 0, 255).astype(np.uint8), "RGB").resize((p, p), Image.BICUBIC)
    mask = Image.fromarray((product_alpha * 255).astype(np.uint8), "L").resize((p, p), Image.BILINEAR)
    # The product's own background in this crop is the white of colourise(); paste through a
    # mask so the photo's surface shows around it.
    angle = rng.uniform(-10, 10)
    prod_img = prod_img.rotate(angle, resample=Image.BICUBIC, expand=True, fillcolor=(255, 255, 255))
    mask = mask.rotate(angle, resample=Image.BILINEAR, expand=True, fillcolor=0)
    pw, ph = prod_img.size
    # Off-centre; one time in five the frame cuts off up to 10% of the product.
    cut = rng.random() < 0.2
    lo_x, hi_x = (-int(0.1 * pw), w - pw + int(0.1 * pw)) if cut else (0, max(1, w - pw))
    lo_y, hi_y = (-int(0.1 * ph), h - ph + int(0.1 * ph)) if cut else (0, max(1, h - ph))
    canvas.paste(prod_img, (int(rng.uniform(lo_x, hi_x)), int(rng.uniform(lo_y, hi_y))), mask)
    radius = rng.uniform(0.0, 0.5) * p / 28
    if radius > 0.3:
        canvas = canvas.filter(ImageFilter.GaussianBlur(radius))
    arr = np.asarray(canvas).astype(np.float64) + rng.normal(0, rng.uniform(1, 6), size=(h, w, 3))
    canvas = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "RGB")
    orientation = 1
    if rng.random() < 0.2:
        # Stored sideways with an EXIF orientation, as phones do.
        orientation = int(rng.choice([6, 8]))
        canvas = canvas.transpose(Image.ROTATE_90 if orientation == 6 else Image.ROTATE_270)
    return canvas, orientation


def save(img: Image.Image, path: Path, fmt: str, quality: int, orientation: int = 1) -> None:
    kwargs = {}
    if orientation != 1:
        exif = Image.Exif()
        exif[0x0112] = orientation
        kwargs["exif"] = exif.tobytes()
    if fmt == "jpg":
        img.save(path, "JPEG", quality=quality, **kwargs)
    elif fmt == "webp":
        img.save(path, "WEBP", quality=quality)
    else:
        img.save(path, "PNG", compress_level=1)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=Path("/usr/share/datasets/fashion-mnist"))
    ap.add_argument("--out", type=Path, default=ROOT / ".data" / "realworld")
    ap.add_argument("--per-class", type=int, default=100)
    ap.add_argument("--seed", type=int, default=777)
    args = ap.parse_args()
    images, labels = load_split(args.data, "t10k")
    rng = np.random.default_rng(args.seed)
    picks = [int(i) for c in range(10) for i in rng.choice(np.nonzero(labels == c)[0], args.per_class, replace=False)]
    (args.out / "catalog").mkdir(parents=True, exist_ok=True)
    (args.out / "photos").mkdir(parents=True, exist_ok=True)
    index = []
    for n, i in enumerate(picks):
        fmt = str(rng.choice(["jpg", "png", "webp"], p=[0.7, 0.2, 0.1]))
        colour = dark_colour(rng)
        cat = catalog_image(images[i], colour, rng)
        cat_name = f"catalog/{n:04d}.{fmt}"
        save(cat, args.out / cat_name, fmt, int(rng.integers(80, 96)))
        photo, orientation = photo_image(images[i], colour, rng)
        photo_name = f"photos/{n:04d}.jpg"
        save(photo, args.out / photo_name, "jpg", int(rng.integers(50, 86)), orientation)
        index.append({"product": n, "testIndex": i, "label": int(labels[i]), "class": CLASSES[int(labels[i])],
                      "catalog": cat_name, "catalogSize": list(cat.size), "photo": photo_name, "orientation": orientation})
        if (n + 1) % 100 == 0:
            print(f"{n + 1}/{len(picks)}", flush=True)
    (args.out / "index.json").write_text(json.dumps({"seed": args.seed, "items": index}, indent=1) + "\n")
    print(f"wrote {len(index)} products to {args.out}")


if __name__ == "__main__":
    main()
