/* eslint-disable @typescript-eslint/no-non-null-assertion -- grid loops read typed arrays at
   indices that are in range by construction (checked once against the geometry). */
// A detector's raw outputs -> objects. tools/model/train_detector.py (`decode`, `box_iou`) is
// its twin, step for step: the parity test compares the two on the trained model.
import type { Crop, Region } from './preprocess.js';

/** The detector's outputs for one image (CenterNet style, see DetectorOutputSpec). */
export interface DetectorOutputs {
  /** [classes, grid, grid]: peak scores, every cell that is not a 3x3 maximum already 0. */
  heatmap: Float32Array;
  /** [2, grid, grid]: box width and height, as fractions of the input side. */
  size: Float32Array;
  /** [2, grid, grid]: the centre's x and y offset inside its cell, in cells. */
  offset: Float32Array;
}

export interface DetectedObject {
  /** Whole pixels of the image as displayed, clamped to it (or to the region): the left/top
   * floored, the right/bottom ceiled, so the box covers all of `bounds`. */
  box: Region;
  /** The exact box [left, top, right, bottom], in the same pixels, clamped alike. */
  bounds: [number, number, number, number];
  /** The heatmap peak, in (0, 1]. */
  score: number;
  /** Index into the manifest's `classes`. */
  classIndex: number;
  /** The category's name, from the manifest's `classes`. */
  category: string;
}

export interface DecodeParams {
  /** Category names, one per heatmap channel. */
  classes: readonly string[];
  /** Input side in pixels (sizes are fractions of it). */
  inputSize: number;
  /** Input pixels per grid cell. */
  stride: number;
  minScore: number;
  maxObjects: number;
  nmsIoU: number;
  /** Input pixels per image pixel: the letterbox's resize factor. */
  scale: number;
  /** The part of the image the input shows, in image pixels: boxes are moved by its origin and
   * clamped to it. Without one, the input itself (scale 1). */
  crop?: Crop;
}

/** Intersection over union of two [left, top, right, bottom] boxes; box_iou in Python. */
export function boxIoU(a: readonly number[], b: readonly number[]): number {
  const ix = Math.max(0, Math.min(a[2]!, b[2]!) - Math.max(a[0]!, b[0]!));
  const iy = Math.max(0, Math.min(a[3]!, b[3]!) - Math.max(a[1]!, b[1]!));
  const inter = ix * iy;
  const union = (a[2]! - a[0]!) * (a[3]! - a[1]!) + (b[2]! - b[0]!) * (b[3]! - b[1]!) - inter;
  return inter / Math.max(union, 1e-9);
}

/**
 * Peaks -> objects, as the Python reference decodes: cells in descending score (ties in
 * [class][y][x] order), the first `4 * maxObjects` considered, none below `minScore`; a box
 * from the cell's offset and size, divided by `scale`; greedy class-agnostic NMS (kept only if
 * its IoU with every kept box is <= nmsIoU), up to `maxObjects`. Then, beyond the reference
 * (which works on the square input, where these change nothing): boxes move by the crop's
 * origin and are clamped to the crop, and a box left empty by clamping (a peak in the
 * letterbox padding) is skipped before NMS, so that it neither counts nor suppresses.
 */
export function decodeDetections(outputs: DetectorOutputs, params: DecodeParams): DetectedObject[] {
  const { classes, inputSize, stride, minScore, maxObjects, nmsIoU, scale } = params;
  const grid = inputSize / stride;
  const cells = grid * grid;
  const { heatmap, size, offset } = outputs;
  if (
    !Number.isInteger(grid) ||
    heatmap.length !== classes.length * cells ||
    size.length !== 2 * cells ||
    offset.length !== 2 * cells
  ) {
    throw new RangeError(
      `decodeDetections: outputs of ${heatmap.length}/${size.length}/${offset.length} floats do not fit ${classes.length} classes on a ${grid}x${grid} grid`,
    );
  }
  const crop = params.crop ?? { left: 0, top: 0, width: inputSize, height: inputSize };
  const right = crop.left + crop.width;
  const bottom = crop.top + crop.height;

  // Only cells at or above minScore can be objects, and they come first in the reference's
  // full argsort: sorting just them gives the same order. Ties keep [class][y][x] order (a
  // stable order; Array.prototype.sort is stable, and the index breaks ties anyway).
  const candidates: number[] = [];
  for (let k = 0; k < heatmap.length; k++) if (heatmap[k]! >= minScore) candidates.push(k);
  candidates.sort((a, b) => heatmap[b]! - heatmap[a]! || a - b);
  const considered = Math.min(candidates.length, 4 * maxObjects);

  const kept: { raw: number[]; object: DetectedObject }[] = [];
  for (let i = 0; i < considered && kept.length < maxObjects; i++) {
    const k = candidates[i]!;
    const classIndex = Math.floor(k / cells);
    const cell = k - classIndex * cells;
    const y = Math.floor(cell / grid);
    const x = cell - y * grid;
    const cx = (x + offset[cell]!) * stride;
    const cy = (y + offset[cells + cell]!) * stride;
    const w = size[cell]! * inputSize;
    const h = size[cells + cell]! * inputSize;
    // In image pixels relative to the crop, unclamped: what the reference computes and runs
    // NMS on.
    const raw = [
      (cx - w / 2) / scale,
      (cy - h / 2) / scale,
      (cx + w / 2) / scale,
      (cy + h / 2) / scale,
    ];
    const clampX = (v: number) => Math.min(Math.max(crop.left + v, crop.left), right);
    const clampY = (v: number) => Math.min(Math.max(crop.top + v, crop.top), bottom);
    const bounds: [number, number, number, number] = [
      clampX(raw[0]!),
      clampY(raw[1]!),
      clampX(raw[2]!),
      clampY(raw[3]!),
    ];
    if (!(bounds[2] > bounds[0] && bounds[3] > bounds[1])) continue;
    if (!kept.every((d) => boxIoU(raw, d.raw) <= nmsIoU)) continue;
    const left = Math.floor(bounds[0]);
    const top = Math.floor(bounds[1]);
    kept.push({
      raw,
      object: {
        box: {
          x: left,
          y: top,
          width: Math.ceil(bounds[2]) - left,
          height: Math.ceil(bounds[3]) - top,
        },
        bounds,
        score: heatmap[k]!,
        classIndex,
        category: classes[classIndex]!,
      },
    });
  }
  return kept.map((d) => d.object);
}
