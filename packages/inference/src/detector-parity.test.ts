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
    peaks: [number, number, number, number][];
  }[];
}

const reference = JSON.parse(
  readFileSync(path.join(PARITY, 'reference.json'), 'utf8'),
) as Reference;

// Scores and heatmap values: float32 sigmoids computed by two runtimes, compared with the
// reference's rounding (5 decimals). Boxes: within half a pixel of PyTorch's.
const SCORE_TOLERANCE = 1e-3;
const BOX_TOLERANCE = 0.5;

/** The reference's peaks start at 0.05, far below any decoding threshold: cells of equal value
 * near 0 can be peaks in one runtime and not in the other (a tie in the graph's 3x3 max), and
 * decide nothing. Every peak that could matter must be the same cell with the same score. */
const PEAK_FLOOR = 0.05;

function peaksOf(heatmap: Float32Array, grid: number): [number, number, number, number][] {
  const cells = grid * grid;
  const out: [number, number, number, number][] = [];
  for (let k = 0; k < heatmap.length; k++) {
    const v = heatmap[k]!;
    if (v >= PEAK_FLOOR)
      out.push([Math.floor(k / cells), Math.floor((k % cells) / grid), k % grid, v]);
  }
  return out;
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
    const peaks = peaksOf(outputs.heatmap, manifest.input.size / manifest.output.stride);
    // A peak within the tolerance of the floor may sit on either side of it in the other runtime.
    const clear = (p: number[]) => Math.abs(p[3]! - PEAK_FLOOR) > SCORE_TOLERANCE;
    const want = scene.peaks.filter(clear);
    const got = peaks.filter(clear);
    expect(got.map((p) => p.slice(0, 3))).toEqual(want.map((p) => p.slice(0, 3)));
    got.forEach((p, i) => {
      expect(Math.abs(p[3] - want[i]![3])).toBeLessThanOrEqual(SCORE_TOLERANCE);
    });
  });
});
