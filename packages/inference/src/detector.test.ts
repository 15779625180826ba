import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { preprocessDetectorImage } from './detect-preprocess.js';
import { createDetector, type DetectResult, type Detector } from './detector.js';
import {
  BusyError,
  CorruptImageError,
  DetectorClosedError,
  DeviceUnavailableError,
  EmbedderClosedError,
  ImageTooLargeError,
  InvalidRegionError,
  ModelError,
  UnsupportedImageError,
} from './errors.js';
import { bundledModelPath, loadDetectorManifest, loadManifest } from './manifest.js';
import type { Region } from './preprocess.js';
import { catalogPng, pngBomb } from './testing/images.js';

const KEY = 'product-detector-v1';
// Low enough that even the untrained placeholder finds objects, so that boxes are exercised
// whichever model is bundled.
const LOW = 0.05;

/** A shopper-style photo: two catalog items on a grey surface, `width` x `height`. */
async function scene(width: number, height: number): Promise<Buffer> {
  const a = await sharp(await catalogPng(1, { size: 120, colour: [180, 40, 40] }))
    .resize(Math.round(height * 0.5))
    .toBuffer();
  const b = await sharp(await catalogPng(7, { size: 120, colour: [30, 60, 160] }))
    .resize(Math.round(height * 0.4))
    .toBuffer();
  return sharp({ create: { width, height, channels: 3, background: '#8a8680' } })
    .composite([
      { input: a, left: Math.round(width * 0.1), top: Math.round(height * 0.2) },
      { input: b, left: Math.round(width * 0.55), top: Math.round(height * 0.4) },
    ])
    .png()
    .toBuffer();
}

/** What every detect() answer must satisfy, whatever the weights: inside the image (or the
 * region), best first, whole pixels covering the exact box. */
function expectWellFormed(
  r: DetectResult,
  minScore: number,
  maxObjects: number,
  within: Region = { x: 0, y: 0, width: r.image.width, height: r.image.height },
) {
  const { x: left, y: top, width, height } = within;
  expect(r.objects.length).toBeLessThanOrEqual(maxObjects);
  r.objects.forEach((o, i) => {
    expect(o.score).toBeGreaterThanOrEqual(Math.fround(minScore));
    if (i > 0) expect(o.score).toBeLessThanOrEqual(r.objects[i - 1]!.score);
    expect(o.category).toBe(detector.info.classes[o.classIndex]);
    for (const v of [o.box.x, o.box.y, o.box.width, o.box.height])
      expect(Number.isInteger(v)).toBe(true);
    expect(o.box.width).toBeGreaterThan(0);
    expect(o.box.height).toBeGreaterThan(0);
    expect(o.box.x).toBeGreaterThanOrEqual(left);
    expect(o.box.y).toBeGreaterThanOrEqual(top);
    expect(o.box.x + o.box.width).toBeLessThanOrEqual(left + width);
    expect(o.box.y + o.box.height).toBeLessThanOrEqual(top + height);
    expect(o.box.x).toBe(Math.floor(o.bounds[0]));
    expect(o.box.x + o.box.width).toBe(Math.ceil(o.bounds[2]));
  });
}

let detector: Detector;
let png: Buffer;
let jpeg: Buffer;
let solo: DetectResult;

beforeAll(async () => {
  detector = await createDetector({ model: 'product-detector', device: 'cpu', maxBatch: 8 });
  png = await scene(320, 200);
  jpeg = await sharp(png).jpeg({ quality: 90 }).toBuffer();
  solo = await detector.detect(png, { minScore: LOW });
});

afterAll(async () => {
  await detector.close();
});

describe('createDetector', () => {
  it('describes the model, its classes, grid and decoding defaults', () => {
    expect(detector.info).toMatchObject({
      id: 'product-detector',
      version: 1,
      key: KEY,
      executionProvider: 'cpu',
      input: { size: 128, channels: 3 },
      output: { grid: 32, stride: 4 },
      decode: { minScore: 0.3, maxObjects: 10, nmsIoU: 0.5 },
      maxBatch: 8,
    });
    expect(detector.info.classes).toHaveLength(10);
    expect(detector.info.classes[8]).toBe('Bag');
  });

  it('detects in a PNG and a JPEG, boxes in the image pixels, best first', async () => {
    expect(solo.image).toMatchObject({ mime: 'image/png', width: 320, height: 200 });
    expect(solo.scale).toBe(128 / 320);
    expect(solo.objects.length).toBeGreaterThan(0);
    expectWellFormed(solo, LOW, 10);
    const fromJpeg = await detector.detect(jpeg, { minScore: LOW });
    expect(fromJpeg.image.mime).toBe('image/jpeg');
    expectWellFormed(fromJpeg, LOW, 10);
    // The manifest's defaults apply without options.
    expectWellFormed(await detector.detect(jpeg), 0.3, 10);
  });

  it('takes minScore and maxObjects per request', async () => {
    const few = await detector.detect(png, { minScore: LOW, maxObjects: 2 });
    // Greedy NMS over a shorter list of candidates (4 * maxObjects) keeps a prefix of what the
    // longer list keeps.
    expect(few.objects.length).toBeGreaterThan(0);
    expect(few.objects.length).toBeLessThanOrEqual(2);
    expect(few.objects).toEqual(solo.objects.slice(0, few.objects.length));
    const none = await detector.detect(png, { minScore: 1 });
    expect(none.objects.every((o) => o.score === 1)).toBe(true);
    await expect(detector.detect(png, { minScore: 1.5 })).rejects.toBeInstanceOf(RangeError);
    await expect(detector.detect(png, { maxObjects: 0 })).rejects.toThrow(/maxObjects/);
  });

  it('detects inside a region, with boxes in the whole image and the region scale', async () => {
    const region = { x: 160, y: 40, width: 160, height: 160 };
    const r = await detector.detect(png, { region, minScore: LOW });
    expect(r.scale).toBe(128 / 160);
    expect(r.image).toMatchObject({ width: 320, height: 200 });
    expectWellFormed(r, LOW, 10, region);
    // The same as detecting in the cropped picture, moved by the region's origin.
    const cropped = await sharp(png)
      .extract({ left: 160, top: 40, width: 160, height: 160 })
      .png()
      .toBuffer();
    const alone = await detector.detect(cropped, { minScore: LOW });
    expect(r.objects.map((o) => [o.classIndex, o.score])).toEqual(
      alone.objects.map((o) => [o.classIndex, o.score]),
    );
    r.objects.forEach((o, i) => {
      const b = alone.objects[i]!.bounds;
      expect(o.bounds[0]).toBeCloseTo(b[0] + 160, 6);
      expect(o.bounds[3]).toBeCloseTo(b[3] + 40, 6);
    });
    await expect(
      detector.detect(png, { region: { x: 400, y: 0, width: 10, height: 10 } }),
    ).rejects.toBeInstanceOf(InvalidRegionError);
  });

  it('answers 40 concurrent calls, each with its own result, in shared micro-batches', async () => {
    const other = await scene(200, 260);
    const otherSolo = await detector.detect(other, { minScore: LOW });
    const before = detector.stats();
    const inputs = Array.from({ length: 40 }, (_, i) => (i % 2 ? other : png));
    const results = await Promise.all(inputs.map((b) => detector.detect(b, { minScore: LOW })));
    results.forEach((r, i) => {
      const want = i % 2 ? otherSolo : solo;
      expect(r.image).toEqual(want.image);
      expect(r.objects.map((o) => o.classIndex)).toEqual(want.objects.map((o) => o.classIndex));
      r.objects.forEach((o, k) => {
        expect(o.score).toBeCloseTo(want.objects[k]!.score, 5);
        expect(o.box).toEqual(want.objects[k]!.box);
      });
    });
    const after = detector.stats();
    expect(after.images - before.images).toBe(40);
    expect(after.batches - before.batches).toBeLessThan(40);
    expect(after.largestBatch).toBeGreaterThan(1);
    expect(after.largestBatch).toBeLessThanOrEqual(8);
    expect(after).toMatchObject({ waiting: 0, running: 0 });
  });

  it('detects in a preprocessed tensor, in input pixels, with the raw outputs', async () => {
    const manifest = await loadDetectorManifest('product-detector');
    const pre = await preprocessDetectorImage(png, manifest.input);
    const r = await detector.detectTensor(pre.tensor, { minScore: LOW });
    expect(r.outputs.heatmap.length).toBe(10 * 32 * 32);
    expect(r.outputs.size.length).toBe(2 * 32 * 32);
    expect(r.outputs.offset.length).toBe(2 * 32 * 32);
    expect(r.objects.map((o) => o.score)).toEqual(solo.objects.map((o) => o.score));
    r.objects.forEach((o, i) => {
      // Input pixels are image pixels times the scale (clamping aside).
      expect(o.bounds[2]).toBeCloseTo(Math.min(solo.objects[i]!.bounds[2] * solo.scale, 128), 4);
    });
    await expect(detector.detectTensor(new Float32Array(10))).rejects.toBeInstanceOf(RangeError);
  });

  it('rejects bad uploads with the typed errors of the embedder and stays healthy', async () => {
    const cases: [Uint8Array, new (...args: never[]) => Error][] = [
      [new Uint8Array(0), CorruptImageError],
      [jpeg.subarray(0, jpeg.length >> 1), CorruptImageError],
      [new TextEncoder().encode('%PDF-1.7 not an image'), UnsupportedImageError],
      [pngBomb(100_000, 100_000), ImageTooLargeError],
      [Buffer.concat([jpeg, Buffer.alloc(26 * 1024 * 1024)]), ImageTooLargeError],
    ];
    for (const [bytes, type] of cases) {
      const err = await detector.detect(bytes).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(type);
      expect((err as Error).message).toContain(KEY);
    }
    const again = await detector.detect(png, { minScore: LOW });
    expect(again.objects).toEqual(solo.objects);
    expect(detector.stats()).toMatchObject({ waiting: 0, running: 0 });
  });
});

describe('queue limits and close()', () => {
  it('answers BusyError when the queue is full, and recovers', async () => {
    const small = await createDetector({
      model: 'product-detector',
      device: 'cpu',
      maxQueue: 4,
      maxBatch: 2,
    });
    try {
      const settled = await Promise.allSettled(
        Array.from({ length: 40 }, () => small.detect(png, { minScore: LOW })),
      );
      const busy = settled.filter((s) => s.status === 'rejected' && s.reason instanceof BusyError);
      const ok = settled.filter((s) => s.status === 'fulfilled');
      expect(busy.length).toBeGreaterThan(0);
      expect(ok.length).toBeGreaterThanOrEqual(4);
      expect(busy.length + ok.length).toBe(40);
      expect(((busy[0] as PromiseRejectedResult).reason as Error).message).toContain(KEY);
      const again = await small.detect(png, { minScore: LOW });
      expect(again.objects.map((o) => o.classIndex)).toEqual(solo.objects.map((o) => o.classIndex));
    } finally {
      await small.close();
    }
  });

  it('close() finishes pending work by default, then refuses new work', async () => {
    const d = await createDetector({ model: 'product-detector', device: 'cpu', maxBatch: 4 });
    const pending = Array.from({ length: 12 }, () => d.detect(png, { minScore: LOW }));
    await d.close();
    for (const r of await Promise.all(pending)) {
      expect(r.objects.map((o) => o.classIndex)).toEqual(solo.objects.map((o) => o.classIndex));
    }
    const err = await d.detect(png).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DetectorClosedError);
    // Callers that map the embedder's "closed" map the detector's alike.
    expect(err).toBeInstanceOf(EmbedderClosedError);
    expect((err as Error).message).toMatch(/product-detector-v1: the detector is closed/);
  });

  it('close({ drain: false }) rejects what has not run yet, and every call settles', async () => {
    const d = await createDetector({ model: 'product-detector', device: 'cpu', maxBatch: 2 });
    const pending = Promise.allSettled(Array.from({ length: 20 }, () => d.detect(png)));
    await d.close({ drain: false });
    const settled = await pending;
    const rejected = settled.filter((s) => s.status === 'rejected');
    expect(rejected.length).toBeGreaterThan(0);
    for (const s of rejected) expect(s.reason).toBeInstanceOf(DetectorClosedError);
  });
});

describe('models and devices', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'lookalike-detector-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** A copy of the bundled manifest, changed by `patch`, next to nothing: `file` points at the
   * bundled ONNX file. */
  async function writeManifest(name: string, patch: (m: Record<string, unknown>) => void) {
    const source = path.join(bundledModelPath('product-detector'), 'model.json');
    const m = JSON.parse(await readFile(source, 'utf8')) as Record<string, unknown>;
    m.file = path.join(bundledModelPath('product-detector'), 'model.onnx');
    patch(m);
    const file = path.join(dir, `${name}.json`);
    await writeFile(file, JSON.stringify(m));
    return file;
  }

  it('refuses a model file whose sha256 differs from the manifest', async () => {
    const location = await writeManifest('sha', (m) => {
      m.sha256 = '0'.repeat(64);
    });
    await expect(createDetector({ model: location, device: 'cpu' })).rejects.toThrow(
      /product-detector-v1.*sha256/,
    );
  });

  it('refuses a manifest whose classes or grid do not match the graph', async () => {
    const fewer = await writeManifest('classes', (m) => {
      m.classes = ['a', 'b', 'c'];
    });
    const err = await createDetector({ model: fewer, device: 'cpu' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelError);
    expect((err as Error).message).toMatch(
      /product-detector-v1: output "heatmap" has shape \[n, 10, 32, 32\], the manifest implies \[n, 3, 32, 32\]/,
    );
    const coarse = await writeManifest('stride', (m) => {
      (m.output as Record<string, unknown>).stride = 8;
    });
    await expect(createDetector({ model: coarse, device: 'cpu' })).rejects.toThrow(/16x16 grid/);
  });

  it('names the output when the graph lacks it', async () => {
    const location = await writeManifest('name', (m) => {
      (m.output as Record<string, unknown>).offset = 'offsets';
    });
    await expect(createDetector({ model: location, device: 'cpu' })).rejects.toThrow(
      /product-detector-v1.*"offsets"/,
    );
  });

  it('will not load an embedder as a detector, nor a detector as an embedder', async () => {
    await expect(createDetector({ model: 'fashion-resnet', device: 'cpu' })).rejects.toThrow(
      /fashion-resnet-v1: is an embedder.*loadManifest/,
    );
    await expect(loadManifest('product-detector')).rejects.toThrow(
      /product-detector-v1: is a detector.*createDetector/,
    );
  });

  it("device 'cuda' either runs on CUDA or fails clearly; 'auto' falls back to CPU with one warning", async () => {
    const cuda = await createDetector({ model: 'product-detector', device: 'cuda' }).catch(
      (e: unknown) => e,
    );
    if (cuda instanceof Error) {
      expect(cuda).toBeInstanceOf(DeviceUnavailableError);
      expect(cuda.message).toMatch(/product-detector-v1.*CUDA/);
      const warnings: string[] = [];
      const auto = await createDetector({
        model: 'product-detector',
        device: 'auto',
        logger: { warn: (m) => warnings.push(m) },
      });
      expect(auto.info.executionProvider).toBe('cpu');
      expect(warnings).toHaveLength(1);
      await auto.close();
    } else {
      const d = cuda as Detector;
      expect(d.info.executionProvider).toBe('cuda');
      const r = await d.detect(png, { minScore: LOW });
      expect(r.objects.map((o) => o.classIndex)).toEqual(solo.objects.map((o) => o.classIndex));
      await d.close();
    }
  });
});
