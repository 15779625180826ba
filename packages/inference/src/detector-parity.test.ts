import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { preprocessDetectorImage } from './detect-preprocess.js';
import { createDetector, type Detector } from './detector.js';
import { bundledModelPath, loadDetectorManifest, type LoadedDetectorManifest } from './manifest.js';

// tools/model/train_detector.py (write_parity) ran these validation scenes through PyTorch and
// its `decode` when it exported the model. They are PNG files of exactly the input size, so no
// resampling differs between PIL and sharp: matching them proves the ONNX graph, the input
// normalisation, the output packing and decode-detect.ts agree with training, peak for peak.
// The files are regenerated with every export: the same test holds for whichever model is
// bundled (an untrained placeholder finds no objects, but its heatmap still has to agree).
const PARITY = path.join(bundledModelPath('product-detector'), 'parity');

interface Reference {
  size: number;
  scenes: {
    file: string;
    objects: { box: [number, number, number, number]; score: number; class: number }[];
    heatmapMax: number;
    heatmapSum: number;
  }[];
}

const reference = JSON.parse(
  readFileSync(path.join(PARITY, 'reference.json'), 'utf8'),
) as Reference;

// Scores and heatmap values: float32 sigmoids computed by two runtimes, compared with the
// reference's rounding (5 decimals). Boxes: within half a pixel of PyTorch's.
const SCORE_TOLERANCE = 1e-3;
const BOX_TOLERANCE = 0.5;

/**
 * The sum of a heatmap's peaks, with what may honestly differ from PyTorch's. The graph keeps a
 * cell when it equals the maximum of its 3x3 neighbourhood, so two neighbouring cells that are
 * exactly equal are both kept; two runtimes round differently, and a pair one of them finds
 * equal the other may tell apart (seen on the placeholder: a flat heatmap of ~0.1 values).
 * `tied`: half the values of cells ORT kept beside an equal neighbour (one of each pair may be
 * missing in PyTorch's sum); `peaks`: every kept value (one of them may be a pair PyTorch kept
 * twice).
 */
function heatmapSum(heatmap: Float32Array, grid: number) {
  let total = 0;
  let tied = 0;
  const peaks: number[] = [];
  const cells = grid * grid;
  for (let k = 0; k < heatmap.length; k++) {
    const v = heatmap[k]!;
    if (v <= 0) continue;
    total += v;
    peaks.push(v);
    const base = k - (k % cells);
    const y = Math.floor((k % cells) / grid);
    const x = k % grid;
    let equal = false;
    for (let dy = -1; dy <= 1; dy++) {
      for (let dx = -1; dx <= 1; dx++) {
        const yy = y + dy;
        const xx = x + dx;
        if ((dx || dy) && yy >= 0 && xx >= 0 && yy < grid && xx < grid)
          equal ||= heatmap[base + yy * grid + xx] === v;
      }
    }
    if (equal) tied += v / 2;
  }
  return { total, tied, peaks };
}

/** Float32 summation over ~10k cells and the reference's 4 decimals: 1e-4 + 1e-5 relative,
 * far below any shift of the input normalisation; beyond it only tie flips (above), each
 * worth one exact cell value. */
function sumAgrees({ total, tied, peaks }: ReturnType<typeof heatmapSum>, ref: number): boolean {
  const tol = 1e-4 + 1e-5 * Math.abs(ref);
  const diff = total - ref;
  if (diff >= -tol && diff <= tied + tol) return true;
  return peaks.some((v) => Math.abs(diff + v) <= tol + tied);
}

describe('detector parity with the PyTorch reference', () => {
  let detector: Detector;
  let manifest: LoadedDetectorManifest;
  beforeAll(async () => {
    manifest = await loadDetectorManifest('product-detector');
    detector = await createDetector({ model: manifest, device: 'cpu' });
  });
  afterAll(async () => {
    await detector.close();
  });

  it('covers the exported scenes, each exactly the input size', async () => {
    expect(reference.size).toBe(manifest.input.size);
    expect(reference.scenes.length).toBeGreaterThanOrEqual(8);
    for (const scene of reference.scenes) {
      const meta = await sharp(path.join(PARITY, scene.file)).metadata();
      expect([meta.width, meta.height]).toEqual([reference.size, reference.size]);
    }
  });

  it.each(reference.scenes.map((s) => [s.file, s] as const))('%s', async (_file, scene) => {
    const bytes = await readFile(path.join(PARITY, scene.file));
    const result = await detector.detect(bytes);
    expect(result.scale).toBe(1);

    expect(result.objects.map((o) => o.classIndex)).toEqual(scene.objects.map((o) => o.class));
    const side = reference.size;
    result.objects.forEach((o, i) => {
      const ref = scene.objects[i]!;
      expect(Math.abs(o.score - ref.score)).toBeLessThanOrEqual(SCORE_TOLERANCE);
      expect(o.category).toBe(manifest.classes[ref.class]);
      // The reference's boxes are not clamped; the detector's are, to the image.
      const want = ref.box.map((v) => Math.min(Math.max(v, 0), side));
      o.bounds.forEach((v, k) => {
        expect(Math.abs(v - want[k]!)).toBeLessThanOrEqual(BOX_TOLERANCE);
      });
      // The whole-pixel box covers the exact one.
      expect(o.box.x).toBeLessThanOrEqual(o.bounds[0]);
      expect(o.box.y).toBeLessThanOrEqual(o.bounds[1]);
      expect(o.box.x + o.box.width).toBeGreaterThanOrEqual(o.bounds[2]);
      expect(o.box.y + o.box.height).toBeGreaterThanOrEqual(o.bounds[3]);
    });

    // The raw heatmap of the same input, which the objects above were decoded from.
    const pre = await preprocessDetectorImage(bytes, manifest.input);
    expect(pre.scale).toBe(1);
    const { outputs, objects } = await detector.detectTensor(pre.tensor);
    expect(objects).toEqual(result.objects);
    let max = -Infinity;
    for (const v of outputs.heatmap) max = Math.max(max, v);
    expect(Math.abs(max - scene.heatmapMax)).toBeLessThanOrEqual(SCORE_TOLERANCE);
    const sum = heatmapSum(outputs.heatmap, manifest.input.size / manifest.output.stride);
    expect(
      sumAgrees(sum, scene.heatmapSum),
      JSON.stringify({ ...sum, ref: scene.heatmapSum }),
    ).toBe(true);
  });
});
