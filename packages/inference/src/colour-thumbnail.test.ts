import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmbedder, type Embedder } from './embedder.js';
import { loadManifest, type LoadedManifest } from './manifest.js';
import { preprocessImage } from './preprocess.js';
import { catalogPng, cosine } from './testing/images.js';

// The bundled colour-layout model (models/colour-thumbnail, tools/model/export_colour_thumbnail.py):
// 16x16 RGB, mean of each 4x4 block per channel, 48 values, L2-normalised.

type Rgb = [number, number, number];
const RED: Rgb = [200, 30, 40];
const BLUE: Rgb = [30, 60, 200];
/** The parity fixtures' ten items: T-shirt/top, Trouser, Pullover, ..., Ankle boot. */
const ITEMS = 10;

/** The match threshold the app uses for a model without measured defaults (model-registry.ts). */
const FALLBACK_MATCH = 0.99;

let embedder: Embedder;
let manifest: LoadedManifest;
const red: Buffer[] = [];
const blue: Buffer[] = [];
/** Each red catalog image as a re-upload would arrive: resized to 200 px, JPEG quality 85. */
const copies: Buffer[] = [];

const vector = async (bytes: Uint8Array) => (await embedder.embed(bytes)).vector;

beforeAll(async () => {
  embedder = await createEmbedder({ model: 'colour-thumbnail', device: 'cpu' });
  manifest = await loadManifest('colour-thumbnail');
  for (let i = 0; i < ITEMS; i++) {
    red.push(await catalogPng(i, { size: 300, colour: RED }));
    blue.push(await catalogPng(i, { size: 300, colour: BLUE }));
    copies.push(await sharp(red[i]).resize(200).jpeg({ quality: 85 }).toBuffer());
  }
});

afterAll(async () => {
  await embedder.close();
});

describe('colour-thumbnail (bundled)', () => {
  it('is a 48-d RGB model with no measured thresholds', () => {
    expect(embedder.info).toMatchObject({
      id: 'colour-thumbnail',
      version: 1,
      key: 'colour-thumbnail-v1',
      dims: 48,
      normalized: true,
      input: { size: 16, channels: 3 },
      defaults: {},
    });
    expect(manifest.input).toMatchObject({ colour: 'rgb', fit: 'resize-crop', trim: true });
  });

  it('returns L2-normalised 48-d vectors', async () => {
    const r = await embedder.embed(red[2]!);
    expect(r.vector).toBeInstanceOf(Float32Array);
    expect(r.vector.length).toBe(48);
    expect(Math.hypot(...r.vector)).toBeCloseTo(1, 5);
    expect(r.image).toMatchObject({ mime: 'image/png', width: 300, height: 300 });
  });

  it('gives the same image the same vector, alone or in a batch', async () => {
    const a = await vector(red[3]!);
    const b = await vector(red[3]!);
    expect(Array.from(b)).toEqual(Array.from(a));
    expect(cosine(a, b)).toBeCloseTo(1, 6);
    // Concurrent calls share one session run (the graph's batch axis is dynamic).
    const batch = await embedder.embedBatch([red[0]!, red[3]!, blue[3]!]);
    const again = batch[1];
    expect(again?.ok).toBe(true);
    if (again?.ok) expect(cosine(again.vector, a)).toBeGreaterThan(0.999999);
  });

  it('finds a resized JPEG copy, and no other product or colour, above the match threshold', async () => {
    const originals = await Promise.all(red.map(vector));
    const others = [...originals, ...(await Promise.all(blue.map(vector)))];
    for (let i = 0; i < ITEMS; i++) {
      const copy = await vector(copies[i]!);
      // Measured: >= 0.99998 for all ten items.
      expect(cosine(copy, originals[i]!)).toBeGreaterThan(0.9999);
      const nearestElse = Math.max(
        ...others.filter((_, j) => j !== i).map((o) => cosine(originals[i]!, o)),
      );
      // Measured: at most 0.9889 (T-shirt/top vs Shirt, the closest pair of shapes).
      expect(nearestElse).toBeLessThan(FALLBACK_MATCH);
    }
  });

  it('keeps a distinct product and the same product in blue well apart from a copy', async () => {
    // Item 3 (Dress). Measured: copy 0.99999, nearest other red product 0.921, blue 0.821.
    const original = await vector(red[3]!);
    const copy = await vector(copies[3]!);
    const otherProducts = await Promise.all(
      red.filter((_, j) => j !== 3).map(async (o) => cosine(original, await vector(o))),
    );
    expect(cosine(original, copy)).toBeGreaterThan(0.9999);
    expect(Math.max(...otherProducts)).toBeLessThan(0.95);
    expect(cosine(original, await vector(blue[3]!))).toBeLessThan(0.9);
  });

  it('tells the red and the blue version of one product apart', async () => {
    // Item 2 (Pullover): a large coloured area. Measured: red vs blue -0.19.
    const r = await vector(red[2]!);
    const b = await vector(blue[2]!);
    const redCopy = await vector(await sharp(red[2]).resize(200).jpeg({ quality: 85 }).toBuffer());
    const blueCopy = await vector(
      await sharp(blue[2]).resize(200).jpeg({ quality: 85 }).toBuffer(),
    );
    expect(cosine(r, b)).toBeLessThan(0);
    expect(cosine(redCopy, r)).toBeGreaterThan(cosine(redCopy, b) + 1);
    expect(cosine(blueCopy, b)).toBeGreaterThan(cosine(blueCopy, r) + 1);
  });

  it('computes the 4x4 block means of the preprocessed tensor (independent reference)', async () => {
    const image = await catalogPng(4, { size: 240, colour: [40, 140, 90] });
    const { tensor } = await preprocessImage(image, manifest.input);
    expect(tensor.length).toBe(3 * 16 * 16);
    const expected: number[] = [];
    for (let c = 0; c < 3; c++) {
      for (let by = 0; by < 4; by++) {
        for (let bx = 0; bx < 4; bx++) {
          let sum = 0;
          for (let y = 4 * by; y < 4 * by + 4; y++)
            for (let x = 4 * bx; x < 4 * bx + 4; x++) sum += tensor[c * 256 + y * 16 + x]!;
          expected.push(sum / 16);
        }
      }
    }
    const norm = Math.hypot(...expected);
    expect(norm).toBeGreaterThan(1);
    const actual = await vector(image);
    expect(actual.length).toBe(48);
    const diff = Math.max(...expected.map((v, i) => Math.abs(v / norm - actual[i]!)));
    expect(diff).toBeLessThan(1e-5);
    // The tensor itself, run as is, gives the same vector.
    const direct = await embedder.embedTensor(tensor);
    expect(Math.max(...Array.from(direct, (v, i) => Math.abs(v - actual[i]!)))).toBeLessThan(1e-6);
  });

  it('loads side by side with fashion-resnet, each with its own dims', async () => {
    const other = await createEmbedder({ model: 'fashion-resnet', device: 'cpu' });
    try {
      expect(other.info.key).not.toBe(embedder.info.key);
      const [a, b] = await Promise.all([embedder.embed(red[0]!), other.embed(red[0]!)]);
      expect(a.vector.length).toBe(48);
      expect(b.vector.length).toBe(128);
    } finally {
      await other.close();
    }
  });
});
