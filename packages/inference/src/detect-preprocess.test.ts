import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { preprocessDetectorImage, roundHalfEven } from './detect-preprocess.js';
import {
  CorruptImageError,
  ImageTooLargeError,
  InvalidRegionError,
  UnsupportedImageError,
} from './errors.js';
import { loadDetectorManifest, type DetectorInputSpec } from './manifest.js';
import { pngBomb } from './testing/images.js';

let spec: DetectorInputSpec;
beforeAll(async () => {
  spec = (await loadDetectorManifest('product-detector')).input;
});

const RED = { r: 255, g: 0, b: 0 };
const BLUE = { r: 0, g: 0, b: 255 };

const solid = (width: number, height: number, background: object = RED) =>
  sharp({ create: { width, height, channels: 3, background } })
    .png()
    .toBuffer();

/** Left half red, right half blue. */
async function halves(width: number, height: number): Promise<Buffer> {
  const half = await sharp({
    create: { width: width / 2, height, channels: 3, background: BLUE },
  })
    .png()
    .toBuffer();
  return sharp({ create: { width, height, channels: 3, background: RED } })
    .composite([{ input: half, left: width / 2, top: 0 }])
    .png()
    .toBuffer();
}

/** The input's RGB at (x, y), back in [0, 1]. */
function pixel(tensor: Float32Array, x: number, y: number): number[] {
  const size = spec.size;
  return [0, 1, 2].map(
    (c) => tensor[c * size * size + y * size + x]! * spec.std[c]! + spec.mean[c]!,
  );
}

const close = (a: number[], b: number[]) => {
  a.forEach((v, i) => {
    expect(v).toBeCloseTo(b[i]!, 4);
  });
};

describe('preprocessDetectorImage: letterbox', () => {
  it('fits a landscape image to the width, at the top left, padded below', async () => {
    const out = await preprocessDetectorImage(await solid(200, 100), spec);
    expect(out.scale).toBe(128 / 200);
    expect(out.resized).toEqual({ width: 128, height: 64 });
    expect(out.crop).toEqual({ left: 0, top: 0, width: 200, height: 100 });
    expect(out.tensor.length).toBe(3 * 128 * 128);
    close(pixel(out.tensor, 0, 0), [1, 0, 0]);
    close(pixel(out.tensor, 127, 63), [1, 0, 0]);
    close(pixel(out.tensor, 0, 64), spec.pad);
    close(pixel(out.tensor, 127, 127), spec.pad);
    // The padding is mid-grey: exactly the mean, 0 after normalisation.
    expect(out.tensor[127 * 128 + 5]).toBe(0);
  });

  it('fits a portrait image to the height, padded on the right', async () => {
    const out = await preprocessDetectorImage(await solid(50, 100, BLUE), spec);
    expect(out.scale).toBe(1.28);
    expect(out.resized).toEqual({ width: 64, height: 128 });
    close(pixel(out.tensor, 63, 127), [0, 0, 1]);
    close(pixel(out.tensor, 64, 0), spec.pad);
  });

  it('enlarges a tiny image so its longer side fills the input', async () => {
    const out = await preprocessDetectorImage(await solid(3, 2), spec);
    expect(out.scale).toBeCloseTo(128 / 3, 12);
    expect(out.resized).toEqual({ width: 128, height: 85 });
    close(pixel(out.tensor, 64, 84), [1, 0, 0]);
    close(pixel(out.tensor, 64, 85), spec.pad);
  });

  it("sizes the picture with Python's round (halves to even), as the reference does", async () => {
    expect([0.5, 1.5, 2.5, 84.5, 85.5, 2.4, 2.6].map(roundHalfEven)).toEqual([
      0, 2, 2, 84, 86, 2, 3,
    ]);
    // 256 x 5 at scale 0.5: 2.5 rows -> 2 (Math.round would give 3).
    const out = await preprocessDetectorImage(await solid(256, 5), spec);
    expect(out.resized).toEqual({ width: 128, height: 2 });
    // And never less than one pixel.
    expect((await preprocessDetectorImage(await solid(1000, 1), spec)).resized).toEqual({
      width: 128,
      height: 1,
    });
  });

  it('leaves an image of exactly the input size unresampled', async () => {
    const raw = Buffer.alloc(128 * 128 * 3);
    for (let i = 0; i < raw.length; i++) raw[i] = (i * 37) % 251;
    const png = await sharp(raw, { raw: { width: 128, height: 128, channels: 3 } })
      .png()
      .toBuffer();
    const out = await preprocessDetectorImage(png, spec);
    expect(out.scale).toBe(1);
    for (const [x, y] of [
      [0, 0],
      [17, 99],
      [127, 127],
    ] as const) {
      const at = (y * 128 + x) * 3;
      close(pixel(out.tensor, x, y), [raw[at]! / 255, raw[at + 1]! / 255, raw[at + 2]! / 255]);
    }
  });

  it('flattens transparency onto white', async () => {
    const png = await sharp({
      create: { width: 64, height: 64, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } },
    })
      .png()
      .toBuffer();
    close(pixel((await preprocessDetectorImage(png, spec)).tensor, 10, 10), [1, 1, 1]);
  });

  it('applies the EXIF orientation first: boxes come back in displayed coordinates', async () => {
    const wide = await halves(200, 100);
    // Stored rotated 90 degrees counter-clockwise with orientation 6 ("rotate 90 clockwise to
    // display"): displayed, it is `wide` again.
    const stored = await sharp(wide).rotate(-90).withMetadata({ orientation: 6 }).png().toBuffer();
    const out = await preprocessDetectorImage(stored, spec);
    expect(out.image).toMatchObject({ width: 200, height: 100, orientation: 6 });
    expect(out.resized).toEqual({ width: 128, height: 64 });
    close(pixel(out.tensor, 10, 32), [1, 0, 0]);
    close(pixel(out.tensor, 117, 32), [0, 0, 1]);
  });
});

describe('preprocessDetectorImage: region', () => {
  it('letterboxes only the region, and reports where it lies', async () => {
    const out = await preprocessDetectorImage(await halves(200, 100), spec, {
      region: { x: 100, y: 0, width: 100, height: 100 },
    });
    expect(out.crop).toEqual({ left: 100, top: 0, width: 100, height: 100 });
    expect(out.scale).toBe(1.28);
    expect(out.resized).toEqual({ width: 128, height: 128 });
    close(pixel(out.tensor, 0, 0), [0, 0, 1]);
    close(pixel(out.tensor, 127, 127), [0, 0, 1]);
  });

  it('clamps a region that overhangs the image and rejects one outside it', async () => {
    const png = await halves(200, 100);
    const out = await preprocessDetectorImage(png, spec, {
      region: { x: 150.5, y: -20, width: 500, height: 60.2 },
    });
    expect(out.crop).toEqual({ left: 150, top: 0, width: 50, height: 41 });
    await expect(
      preprocessDetectorImage(png, spec, { region: { x: 200, y: 0, width: 10, height: 10 } }),
    ).rejects.toBeInstanceOf(InvalidRegionError);
    await expect(
      preprocessDetectorImage(png, spec, { region: { x: 0, y: 0, width: 0, height: 10 } }),
    ).rejects.toBeInstanceOf(InvalidRegionError);
  });
});

describe('preprocessDetectorImage: bad uploads', () => {
  it('gives the typed errors of the embedder, prefixed with `where`', async () => {
    const jpeg = await sharp(await solid(64, 64))
      .jpeg()
      .toBuffer();
    const cases: [Uint8Array, new (...args: never[]) => Error][] = [
      [new Uint8Array(0), CorruptImageError],
      [jpeg.subarray(0, jpeg.length >> 1), CorruptImageError],
      [new TextEncoder().encode('%PDF-1.7 not an image'), UnsupportedImageError],
      [pngBomb(100_000, 100_000), ImageTooLargeError],
    ];
    for (const [bytes, type] of cases) {
      const err = await preprocessDetectorImage(bytes, spec, {}, undefined, 'model d-v1').catch(
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(type);
      expect((err as Error).message).toContain('model d-v1');
    }
  });
});
