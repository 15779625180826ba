"""Synthetic shopper photos: Fashion-MNIST products on real-looking surfaces.

One renderer for two jobs, so training and evaluation see the same kind of world but never the
same products: the detector is trained on scenes of TRAINING-split items (train_detector.py) and
the evaluation set is built from TEST-split items (make_shopper_eval.py).

A scene is a surface (wood grain, woven fabric, stone, tiles, a painted gradient; never white),
one to three products (Fashion-MNIST items coloured with a catalog colour, 20-80% of the frame,
slightly rotated, each casting a soft shadow), zero to three distractors that are not products
(mugs, phones, books, keys, leaves, stray shapes), then light: a white-balance cast, an
exposure change, a brightness ramp, sensor noise and (by the caller) JPEG.
"""
from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

# Catalog colours (sRGB 0-1): the colours real variants come in. Named so that the evaluation
# set can say which variant a SKU is; chosen far enough apart that a shopper would call them
# different colours.
PALETTE: dict[str, tuple[float, float, float]] = {
    "black": (0.08, 0.08, 0.09),
    "white": (0.93, 0.93, 0.91),
    "grey": (0.50, 0.50, 0.52),
    "navy": (0.10, 0.15, 0.40),
    "blue": (0.15, 0.40, 0.85),
    "teal": (0.05, 0.50, 0.50),
    "green": (0.15, 0.55, 0.20),
    "olive": (0.45, 0.45, 0.15),
    "yellow": (0.95, 0.80, 0.15),
    "orange": (0.95, 0.50, 0.10),
    "red": (0.80, 0.10, 0.12),
    "burgundy": (0.45, 0.05, 0.15),
    "pink": (0.95, 0.55, 0.70),
    "purple": (0.45, 0.20, 0.60),
    "brown": (0.45, 0.28, 0.15),
    "beige": (0.85, 0.75, 0.60),
}
COLOUR_NAMES = list(PALETTE)


def colourise(item: np.ndarray, colour) -> tuple[np.ndarray, np.ndarray]:
    """A Fashion-MNIST item (bright on black, uint8 HxW) as a product of `colour`: RGB in [0, 1]
    (faint parts of the garment lighter, as fabric catches light) and its alpha mask."""
    v = item.astype(np.float64) / 255.0
    c = np.asarray(colour, dtype=np.float64)
    # Shade: the item's own intensity modulates the colour between 0.55x and 1x (folds, seams),
    # so dark and light colours both keep the item's structure.
    shade = 0.55 + 0.45 * v
    rgb = np.clip(c[None, None, :] * shade[..., None] + (1 - shade[..., None]) * 0.15 * (c.mean() > 0.6), 0, 1)
    alpha = np.clip((v - 0.02) * 6.0, 0.0, 1.0)
    return rgb, alpha


def catalog_rgb(item: np.ndarray, colour) -> np.ndarray:
    """The merchant's catalog shot: the product on white (uint8 HxWx3)."""
    rgb, alpha = colourise(item, colour)
    out = alpha[..., None] * rgb + (1 - alpha[..., None]) * 1.0
    return np.round(out * 255).astype(np.uint8)


# ------------------------------------------------------------------------------------ surfaces

def _smooth_noise(rng, h: int, w: int, cells: int) -> np.ndarray:
    small = rng.random((cells + 1, cells + 1))
    img = Image.fromarray((small * 255).astype(np.uint8), "L").resize((w, h), Image.BICUBIC)
    return np.asarray(img).astype(np.float64) / 255.0


def surface(rng, h: int, w: int, studio: float = 0.0) -> np.ndarray:
    """A textured, non-white surface, HxWx3 in [0, 1]; with probability `studio` instead a
    plain light backdrop (a catalog-style shot, which a detector must handle too)."""
    if rng.random() < studio:
        level = rng.uniform(0.85, 1.0)
        ramp = np.linspace(0, rng.uniform(-0.08, 0.08), h)[:, None, None]
        return np.clip(np.full((h, w, 3), level) + ramp + rng.uniform(-0.03, 0.03, 3), 0, 1)
    kind = rng.choice(["wood", "fabric", "stone", "tiles", "painted"])
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    s = min(h, w)
    hue = rng.random(3)
    if kind == "wood":
        base = np.array([0.55, 0.38, 0.22]) * rng.uniform(0.6, 1.3)
        warp = _smooth_noise(rng, h, w, 4) * rng.uniform(4, 12)
        ang = rng.uniform(0, math.pi)
        t = (xx * math.cos(ang) + yy * math.sin(ang)) / s * rng.uniform(12, 30) + warp
        grain = 0.5 + 0.5 * np.sin(t) * (0.5 + 0.5 * _smooth_noise(rng, h, w, 8))
        tex = base[None, None, :] * (0.75 + 0.35 * grain[..., None])
    elif kind == "fabric":
        base = 0.25 + 0.55 * hue
        period = max(2.0, s / rng.uniform(40, 120))
        weave = np.sin(xx * 2 * math.pi / period) * np.sin(yy * 2 * math.pi / period)
        tex = base[None, None, :] * (0.85 + 0.12 * weave[..., None] + 0.1 * _smooth_noise(rng, h, w, 6)[..., None])
    elif kind == "stone":
        base = np.full(3, rng.uniform(0.45, 0.85)) + rng.uniform(-0.08, 0.08, 3)
        n = 0.5 * _smooth_noise(rng, h, w, 3) + 0.3 * _smooth_noise(rng, h, w, 12) + 0.2 * _smooth_noise(rng, h, w, 40)
        veins = np.abs(np.sin(n * rng.uniform(8, 20))) < 0.08
        tex = base[None, None, :] * (0.8 + 0.35 * n[..., None]) - 0.15 * veins[..., None]
    elif kind == "tiles":
        base = 0.35 + 0.5 * hue
        period = s / rng.uniform(2.5, 7)
        grout = ((xx % period) < period * 0.04) | ((yy % period) < period * 0.04)
        tex = base[None, None, :] * (0.9 + 0.15 * _smooth_noise(rng, h, w, 5)[..., None])
        tex = np.where(grout[..., None], tex * 0.6, tex)
    else:
        a, b = 0.2 + 0.6 * rng.random(3), 0.2 + 0.6 * rng.random(3)
        ang = rng.uniform(0, 2 * math.pi)
        t = np.clip(((xx / w - 0.5) * math.cos(ang) + (yy / h - 0.5) * math.sin(ang)) + 0.5, 0, 1)
        tex = a[None, None, :] * (1 - t[..., None]) + b[None, None, :] * t[..., None]
        tex = tex * (0.92 + 0.1 * _smooth_noise(rng, h, w, 20)[..., None])
    return np.clip(tex, 0.03, 0.9)


# --------------------------------------------------------------------------------- distractors

def distractor(rng, side: int) -> tuple[np.ndarray, np.ndarray]:
    """An object that is not a product (RGB, alpha), about `side` px."""
    kind = rng.choice(["mug", "phone", "book", "keys", "leaf", "blob", "bottle", "text"])
    w = h = max(8, side)
    if kind in ("phone", "book", "bottle", "text"):
        aspect = {"phone": 0.5, "book": 0.72, "bottle": 0.35, "text": 1.8}[kind]
        w, h = (max(6, int(side * aspect)), side) if aspect < 1 else (side, max(6, int(side / aspect)))
    mask = Image.new("L", (w, h), 0)
    col = Image.new("RGB", (w, h), tuple(int(c) for c in rng.integers(20, 235, 3)))
    d = ImageDraw.Draw(mask)
    dc = ImageDraw.Draw(col)
    if kind == "mug":
        d.ellipse([w * 0.1, h * 0.25, w * 0.75, h * 0.95], fill=255)
        d.ellipse([w * 0.62, h * 0.4, w * 0.98, h * 0.75], outline=255, width=max(2, side // 12))
    elif kind == "phone":
        d.rounded_rectangle([0, 0, w - 1, h - 1], radius=max(2, w // 6), fill=255)
        dc.rectangle([w * 0.08, h * 0.06, w * 0.92, h * 0.94], fill=(15, 20, 30))
    elif kind == "book":
        d.rectangle([0, 0, w - 1, h - 1], fill=255)
        for _ in range(3):
            y = rng.uniform(0.1, 0.9) * h
            dc.rectangle([0, y, w, y + h * 0.05], fill=tuple(int(c) for c in rng.integers(0, 255, 3)))
    elif kind == "keys":
        for _ in range(int(rng.integers(2, 5))):
            x0, y0 = rng.uniform(0.3, 0.7) * w, rng.uniform(0.3, 0.7) * h
            ang = rng.uniform(0, 2 * math.pi)
            d.line([x0, y0, x0 + math.cos(ang) * w * 0.45, y0 + math.sin(ang) * h * 0.45], fill=255, width=max(2, side // 14))
        d.ellipse([w * 0.35, h * 0.35, w * 0.65, h * 0.65], outline=255, width=max(2, side // 16))
        col = Image.new("RGB", (w, h), tuple(int(c) for c in rng.integers(140, 210, 3)))
    elif kind == "leaf":
        for _ in range(int(rng.integers(2, 6))):
            cx, cy = rng.uniform(0.2, 0.8) * w, rng.uniform(0.2, 0.8) * h
            rx, ry = rng.uniform(0.1, 0.3) * w, rng.uniform(0.05, 0.15) * h
            d.ellipse([cx - rx, cy - ry, cx + rx, cy + ry], fill=255)
        col = Image.new("RGB", (w, h), (int(rng.integers(20, 80)), int(rng.integers(90, 170)), int(rng.integers(20, 70))))
    elif kind == "text":
        d.rectangle([0, 0, w - 1, h - 1], fill=255)
        col = Image.new("RGB", (w, h), (235, 232, 225))
        dc = ImageDraw.Draw(col)
        for i in range(int(rng.integers(3, 7))):
            y = (i + 0.5) / 7 * h
            dc.line([w * 0.08, y, w * rng.uniform(0.4, 0.92), y], fill=(30, 30, 30), width=max(1, h // 16))
    elif kind == "bottle":
        d.rounded_rectangle([w * 0.1, h * 0.3, w * 0.9, h - 1], radius=max(2, w // 4), fill=255)
        d.rectangle([w * 0.35, 0, w * 0.65, h * 0.35], fill=255)
    else:
        pts = [(w / 2 + math.cos(a) * w / 2 * rng.uniform(0.5, 1), h / 2 + math.sin(a) * h / 2 * rng.uniform(0.5, 1))
               for a in np.linspace(0, 2 * math.pi, int(rng.integers(3, 9)), endpoint=False)]
        d.polygon(pts, fill=255)
    rgb = np.asarray(col).astype(np.float64) / 255.0
    shade = 0.85 + 0.15 * np.linspace(1, -1, h)[:, None]
    return np.clip(rgb * shade[..., None], 0, 1), np.asarray(mask).astype(np.float64) / 255.0


# ------------------------------------------------------------------------------------- scenes

def _resize(arr: np.ndarray, w: int, h: int, angle: float) -> np.ndarray:
    """Resize (and rotate, expanding the canvas) a float image HxW or HxWxC in [0, 1]."""
    u8 = np.round(np.clip(arr, 0, 1) * 255).astype(np.uint8)
    img = Image.fromarray(u8).resize((w, h), Image.BICUBIC if min(w, h) > arr.shape[0] else Image.BILINEAR)
    if angle:
        img = img.rotate(angle, resample=Image.BILINEAR, expand=True, fillcolor=0)
    return np.asarray(img).astype(np.float64) / 255.0


def _place(rng, canvas_w, canvas_h, w, h, taken, max_overlap=0.15, tries=30):
    best = None
    for _ in range(tries):
        x = int(rng.uniform(0, max(1, canvas_w - w)))
        y = int(rng.uniform(0, max(1, canvas_h - h)))
        box = (x, y, x + w, y + h)
        worst = max([_overlap(box, t) for t in taken], default=0.0)
        if worst <= max_overlap:
            return box
        if best is None or worst < best[0]:
            best = (worst, box)
    return None


def _overlap(a, b) -> float:
    """Intersection over the smaller box's area."""
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    small = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return ix * iy / max(small, 1)


def _composite(canvas, rgb, alpha, x, y, shadow: float, rng):
    """Paste rgb/alpha at (x, y) with a soft shadow below it; clipped to the canvas."""
    H, W, _ = canvas.shape
    h, w = alpha.shape
    if shadow > 0:
        dx, dy = int(rng.uniform(-0.06, 0.06) * w), int(rng.uniform(0.02, 0.08) * h)
        blur = max(1.0, 0.04 * max(w, h))
        sm = Image.fromarray(np.round(alpha * 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(blur))
        sa = np.asarray(sm).astype(np.float64) / 255.0 * shadow
        _blend(canvas, np.zeros((h, w, 3)), sa, x + dx, y + dy)
    _blend(canvas, rgb, alpha, x, y)


def _blend(canvas, rgb, alpha, x, y):
    H, W, _ = canvas.shape
    h, w = alpha.shape
    x0, y0, x1, y1 = max(0, x), max(0, y), min(W, x + w), min(H, y + h)
    if x1 <= x0 or y1 <= y0:
        return
    a = alpha[y0 - y : y1 - y, x0 - x : x1 - x, None]
    canvas[y0:y1, x0:x1] = a * rgb[y0 - y : y1 - y, x0 - x : x1 - x] + (1 - a) * canvas[y0:y1, x0:x1]


def render_scene(rng, items: list[np.ndarray], colours: list, width: int, height: int,
                 scale: tuple[float, float] = (0.2, 0.8), distractors: tuple[int, int] = (0, 3),
                 light: float = 1.0, studio: float = 0.0):
    """Render one scene. `items` are Fashion-MNIST uint8 28x28 arrays, `colours` their sRGB
    colours. Returns (uint8 HxWx3 image, boxes): one [x0, y0, x1, y1] pixel box per item (the
    visible product, tight), in `items` order; an item that could not be placed gets None.
    `light` scales the strength of the lighting changes (0 = none); `studio` is the chance of a
    plain light backdrop instead of a textured surface."""
    canvas = surface(rng, height, width, studio)
    short = min(width, height)
    taken: list[tuple[int, int, int, int]] = []
    boxes: list = []
    n = len(items)
    # Several products share the frame: their sizes shrink so that they fit side by side.
    hi = scale[1] if n == 1 else min(scale[1], 0.62 if n == 2 else 0.48)
    lo = min(scale[0], hi)
    layers = []
    for item, colour in zip(items, colours):
        rgb, alpha = colourise(item, colour)
        ys, xs = np.nonzero(alpha > 0.5)
        if len(xs) == 0:
            boxes.append(None)
            continue
        # Crop to the item's own extent, so `scale` is the product's size, not the 28x28 tile's.
        rgb, alpha = rgb[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1], alpha[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
        frac = rng.uniform(lo, hi)
        longest = max(alpha.shape)
        k = frac * short / longest
        w, h = max(4, int(round(alpha.shape[1] * k))), max(4, int(round(alpha.shape[0] * k)))
        angle = float(rng.uniform(-12, 12))
        rgb_s = _resize(rgb, w, h, angle)
        alpha_s = _resize(alpha, w, h, angle)
        ph, pw = alpha_s.shape
        box = _place(rng, width, height, pw, ph, taken)
        if box is None:
            boxes.append(None)
            continue
        taken.append(box)
        layers.append((rgb_s, alpha_s, box))
        ys, xs = np.nonzero(alpha_s > 0.5)
        boxes.append([box[0] + int(xs.min()), box[1] + int(ys.min()), box[0] + int(xs.max()) + 1, box[1] + int(ys.max()) + 1])
    # Distractors first (under the products), where they do not cover a product much.
    for _ in range(int(rng.integers(distractors[0], distractors[1] + 1))):
        side = int(rng.uniform(0.1, 0.35) * short)
        rgb, alpha = distractor(rng, side)
        angle = float(rng.uniform(-30, 30))
        rgb_s = _resize(rgb, rgb.shape[1], rgb.shape[0], angle)
        alpha_s = _resize(alpha, alpha.shape[1], alpha.shape[0], angle)
        box = _place(rng, width, height, alpha_s.shape[1], alpha_s.shape[0], taken, max_overlap=0.1, tries=10)
        if box is not None:
            _composite(canvas, rgb_s, alpha_s, box[0], box[1], rng.uniform(0.15, 0.4) * light, rng)
    for rgb_s, alpha_s, box in layers:
        _composite(canvas, rgb_s, alpha_s, box[0], box[1], rng.uniform(0.2, 0.5) * light, rng)
    # Light: white-balance cast, exposure, a brightness ramp, noise.
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float64)
    ang = rng.uniform(0, 2 * math.pi)
    ramp = 1 + light * rng.uniform(0, 0.25) * ((xx / width - 0.5) * math.cos(ang) + (yy / height - 0.5) * math.sin(ang))
    gains = 1 + light * rng.uniform(-0.12, 0.12, 3)
    exposure = 1 + light * rng.uniform(-0.2, 0.12)
    img = canvas * ramp[..., None] * gains[None, None, :] * exposure
    img = img + rng.normal(0, light * rng.uniform(0.002, 0.02), img.shape)
    return np.round(np.clip(img, 0, 1) * 255).astype(np.uint8), boxes
