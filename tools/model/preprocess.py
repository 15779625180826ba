"""Reference implementation of the bundled model's preprocessing ("trim-fit-pad", luma, bright-on-dark).

This is the Python twin of packages/inference/src/preprocess.ts: every step and constant here has
the same meaning there, and the parity fixtures written by train.py prove the two agree (cosine
>= 0.999 on the same PNG files). Training applies it to every Fashion-MNIST image, so the network
only ever sees what the TypeScript side will produce at serving time.

Why these steps: Fashion-MNIST was made from catalog photos on white by trimming the background,
fitting the longest side to 28 px and negating (bright product on black). A merchant's catalog
image (dark product on white, any size, margins) or a shopper's photo becomes Fashion-MNIST-like by
doing the same: find the background level from the border, make the product brighter than the
background (polarity), subtract the background, trim the uniform border, fit and pad.
"""
from __future__ import annotations

import numpy as np

# ITU-R BT.601 luma weights: the conversion Fashion-MNIST's own greyscale images are closest to,
# and simple to reproduce exactly in TypeScript (sharp's greyscale works in linear light).
LUMA = (0.299, 0.587, 0.114)


def resize_weights(n_in: int, n_out: int) -> np.ndarray:
    """(n_out, n_in) matrix: exact area averaging when shrinking, bilinear (half-pixel centres,
    edge clamped) when enlarging. Separable, so the same matrices serve rows and columns."""
    w = np.zeros((n_out, n_in), dtype=np.float64)
    if n_out < n_in:
        scale = n_in / n_out
        for i in range(n_out):
            lo, hi = i * scale, (i + 1) * scale
            j = int(np.floor(lo))
            while j < n_in and j < hi:
                overlap = min(hi, j + 1) - max(lo, j)
                if overlap > 0:
                    w[i, j] += overlap / scale
                j += 1
    else:
        scale = n_in / n_out
        for i in range(n_out):
            src = (i + 0.5) * scale - 0.5
            src = min(max(src, 0.0), n_in - 1.0)
            j0 = int(np.floor(src))
            j1 = min(j0 + 1, n_in - 1)
            f = src - j0
            w[i, j0] += 1.0 - f
            w[i, j1] += f
    return w


def resize(img: np.ndarray, out_h: int, out_w: int) -> np.ndarray:
    wy = resize_weights(img.shape[0], out_h)
    wx = resize_weights(img.shape[1], out_w)
    return wy @ img.astype(np.float64) @ wx.T


def border_median(g: np.ndarray) -> float:
    h, w = g.shape
    ring = np.concatenate([g[0, :], g[h - 1, :], g[1 : h - 1, 0], g[1 : h - 1, w - 1]]) if h > 1 and w > 1 else g.ravel()
    s = np.sort(ring)
    # Lower median, so both implementations pick the same element without averaging.
    return float(s[(len(s) - 1) // 2])


def to_luma(rgb: np.ndarray) -> np.ndarray:
    """uint8 (H, W, 3) or (H, W) -> float64 luma in [0, 255]."""
    if rgb.ndim == 2:
        return rgb.astype(np.float64)
    r, g, b = (rgb[..., i].astype(np.float64) for i in range(3))
    return LUMA[0] * r + LUMA[1] * g + LUMA[2] * b


def preprocess(rgb: np.ndarray, size: int = 28, trim: bool = True, tolerance: float = 0.1,
               min_line_fraction: float = 0.01) -> np.ndarray:
    """uint8 RGB (H, W, 3) or grey (H, W) -> float32 (size, size) in [0, 1], product bright on black."""
    g = to_luma(rgb)
    h, w = g.shape
    bg = border_median(g)
    mask = np.abs(g - bg) > tolerance * 255.0
    # Polarity: the product must be brighter than its background, as in Fashion-MNIST. Decided by
    # the mean of the pixels that differ from the background, so a white shirt on a grey table and
    # a black shoe on white both come out right.
    if mask.any() and g[mask].mean() < bg:
        g = 255.0 - g
        bg = 255.0 - bg
    # Background subtraction with a contrast stretch: an off-white studio background or a grey
    # table becomes black, like Fashion-MNIST's.
    g = np.clip((g - bg) / max(255.0 - bg, 1.0), 0.0, 1.0)
    top, bottom, left, right = 0, h, 0, w
    if trim and mask.any():
        rows = np.nonzero(mask.sum(axis=1) > min_line_fraction * w)[0]
        cols = np.nonzero(mask.sum(axis=0) > min_line_fraction * h)[0]
        if len(rows) and len(cols):
            top, bottom, left, right = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
    crop = g[top:bottom, left:right]
    ch, cw = crop.shape
    longest = max(ch, cw)
    th = max(1, int(np.floor(ch * size / longest + 0.5)))
    tw = max(1, int(np.floor(cw * size / longest + 0.5)))
    fitted = resize(crop, th, tw)
    out = np.zeros((size, size), dtype=np.float64)
    y0, x0 = (size - th) // 2, (size - tw) // 2
    out[y0 : y0 + th, x0 : x0 + tw] = fitted
    return out.astype(np.float32)


def preprocess_rgb(rgb: np.ndarray, size: int = 28, trim: bool = True, tolerance: float = 0.1,
                   min_line_fraction: float = 0.01) -> tuple[np.ndarray, np.ndarray]:
    """The `luma+rgb` input of fashion-resnet v2: `preprocess()`'s luma plane, plus the image's own
    sRGB colours (0-1, not inverted, not background-subtracted) cropped, fitted and placed
    exactly like it (padding 0). Returns float32 (size, size) and (3, size, size)."""
    if rgb.ndim == 2:
        rgb = np.repeat(rgb[..., None], 3, axis=2)
    luma = preprocess(rgb, size, trim, tolerance, min_line_fraction)
    g = to_luma(rgb)
    h, w = g.shape
    bg = border_median(g)
    mask = np.abs(g - bg) > tolerance * 255.0
    top, bottom, left, right = 0, h, 0, w
    if trim and mask.any():
        rows = np.nonzero(mask.sum(axis=1) > min_line_fraction * w)[0]
        cols = np.nonzero(mask.sum(axis=0) > min_line_fraction * h)[0]
        if len(rows) and len(cols):
            top, bottom, left, right = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
    ch, cw = bottom - top, right - left
    longest = max(ch, cw)
    th = max(1, int(np.floor(ch * size / longest + 0.5)))
    tw = max(1, int(np.floor(cw * size / longest + 0.5)))
    y0, x0 = (size - th) // 2, (size - tw) // 2
    out = np.zeros((3, size, size), dtype=np.float64)
    for c in range(3):
        plane = rgb[top:bottom, left:right, c].astype(np.float64) / 255.0
        out[c, y0 : y0 + th, x0 : x0 + tw] = resize(plane, th, tw)
    return luma, out.astype(np.float32)


def read_flattened(path) -> np.ndarray:
    """A parity fixture's pixels as the TypeScript side reads them: uint8, transparency flattened
    on white (the manifests' `background`)."""
    from PIL import Image

    img = Image.open(path)
    arr = np.asarray(img)
    if img.mode == "RGBA":
        a = arr[..., 3:4].astype(np.float64) / 255.0
        arr = np.round(arr[..., :3] * a + 255.0 * (1 - a)).astype(np.uint8)
    return arr
