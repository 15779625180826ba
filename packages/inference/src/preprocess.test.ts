import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  CorruptImageError,
  ImageTooLargeError,
  InvalidRegionError,
  UnsupportedImageError,
} from './errors.js';
import { loadManifest, type InputSpec } from './manifest.js';
import { DEFAULT_LIMITS, inspectImage, preprocessImage } from './preprocess.js';
import { catalogPng, catalogRaw, greyItem, pngBomb } from './testing/images.js';

let spec: InputSpec;
beforeAll(async () => {
  spec = (await loadManifest('fashion-resnet')).input;
});

/** Mean absolute difference of two preprocessed tensors, in [0, 1] pixel units. */
function pixelDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
  return (sum / a.length) * spec.std[0]!;
}

async function tensor(bytes: Uint8Array, opts = {}) {
  return (await preprocessImage(bytes, spec, opts)).tensor;
}

describe('preprocessImage: formats and colour handling', () => {
  let reference: Float32Array;
  let raw: { data: Buffer; width: number; height: number };
  const fromRaw = () =>
    sharp(raw.data, { raw: { width: raw.width, height: raw.height, channels: 3 } });

  beforeAll(async () => {
    raw = await catalogRaw(3);
    reference = await tensor(await fromRaw().png().toBuffer());
  });

  it.each([
    ['image/jpeg', () => fromRaw().jpeg({ quality: 95 }).toBuffer(), 0.02],
    ['image/webp', () => fromRaw().webp({ lossless: true }).toBuffer(), 0.002],
    ['image/gif', () => fromRaw().gif().toBuffer(), 0.03],
    ['image/tiff', () => fromRaw().tiff().toBuffer(), 0.002],
    ['image/avif', () => fromRaw().avif({ quality: 90 }).toBuffer(), 0.03],
  ] as const)('decodes %s like the PNG original', async (mime, encode, tolerance) => {
    const bytes = await encode();
    const out = await preprocessImage(bytes, spec);
    expect(out.image.mime).toBe(mime);
    expect(out.image.width).toBe(raw.width);
    expect(pixelDiff(out.tensor, reference)).toBeLessThan(tolerance);
  });

  it('applies the EXIF orientation before anything else', async () => {
    // Stored rotated 90 degrees counter-clockwise with orientation 6 ("rotate 90 clockwise to
    // display"): after auto-orientation it must be the original picture. A non-square canvas
    // makes a wrong orientation visible in the reported size as well.
    const wide = await fromRaw().extend({ right: 120, background: '#ffffff' }).png().toBuffer();
    const stored = await sharp(wide).rotate(-90).withMetadata({ orientation: 6 }).png().toBuffer();
    const displayed = await preprocessImage(stored, spec);
    const original = await preprocessImage(wide, spec);
    expect(displayed.image.orientation).toBe(6);
    expect([displayed.image.width, displayed.image.height]).toEqual([raw.width + 120, raw.height]);
    // Not bit-identical: libvips shrinks the rotated raster in a different order.
    expect(pixelDiff(displayed.tensor, original.tensor)).toBeLessThan(0.002);
    const unrotated = await preprocessImage(await sharp(wide).rotate(-90).png().toBuffer(), spec);
    expect(pixelDiff(unrotated.tensor, original.tensor)).toBeGreaterThan(0.05);
  });

  it('converts CMYK JPEG to sRGB', async () => {
    const cmyk = await fromRaw().toColourspace('cmyk').jpeg({ quality: 95 }).toBuffer();
    const out = await preprocessImage(cmyk, spec);
    expect(out.image.space).toBe('cmyk');
    // sRGB -> CMYK -> sRGB through ICC profiles is not lossless; read as anything but CMYK the
    // four channels would be off by far more than this.
    expect(pixelDiff(out.tensor, reference)).toBeLessThan(0.05);
  });

  it('reads 16-bit PNG', async () => {
    const deep = await fromRaw().toColourspace('rgb16').png().toBuffer();
    const out = await preprocessImage(deep, spec);
    expect(out.image.depth).toBe('ushort');
    expect(pixelDiff(out.tensor, reference)).toBeLessThan(0.002);
  });

  it('flattens transparency onto white', async () => {
    // The product on a fully transparent background: flattened, it is the catalog image.
    const rgba = Buffer.alloc(raw.width * raw.height * 4);
    for (let i = 0; i < raw.width * raw.height; i++) {
      const r = raw.data[3 * i]!;
      const g = raw.data[3 * i + 1]!;
      const b = raw.data[3 * i + 2]!;
      const white = r === 255 && g === 255 && b === 255;
      // Transparent pixels get a colour that would show (black) if alpha were ignored.
      rgba.set(white ? [0, 0, 0, 0] : [r, g, b, 255], 4 * i);
    }
    const png = await sharp(rgba, { raw: { width: raw.width, height: raw.height, channels: 4 } })
      .png()
      .toBuffer();
    const out = await preprocessImage(png, spec);
    expect(out.image.hasAlpha).toBe(true);
    expect(pixelDiff(out.tensor, reference)).toBeLessThan(0.002);
  });

  it('reads greyscale images as their luma', async () => {
    const grey = await fromRaw().greyscale().toColourspace('b-w').png().toBuffer();
    const out = await preprocessImage(grey, spec);
    expect(out.image.channels).toBe(1);
    // The grey PNG holds libvips' greyscale, slightly different from BT.601 luma of the colour image.
    expect(pixelDiff(out.tensor, reference)).toBeLessThan(0.03);
  });

  it('treats a bright product on black the same as a dark product on white (polarity)', async () => {
    const negated = await fromRaw().negate().png().toBuffer();
    const colourNegated = await tensor(negated);
    expect(pixelDiff(colourNegated, reference)).toBeLessThan(0.01);
  });
});

describe('preprocessImage: region and trim', () => {
  it('embeds only the region, in displayed coordinates', async () => {
    const a = await catalogRaw(0, { size: 200 });
    const b = await catalogRaw(7, { size: 200 });
    const side = (r: typeof a) =>
      sharp(r.data, { raw: { width: 200, height: 200, channels: 3 } })
        .png()
        .toBuffer();
    const pair = await sharp({
      create: { width: 400, height: 200, channels: 3, background: '#ffffff' },
    })
      .composite([
        { input: await side(a), left: 0, top: 0 },
        { input: await side(b), left: 200, top: 0 },
      ])
      .png()
      .toBuffer();
    const left = await tensor(pair, { region: { x: 0, y: 0, width: 200, height: 200 } });
    const right = await tensor(pair, { region: { x: 200, y: 0, width: 200, height: 200 } });
    expect(pixelDiff(left, await tensor(await side(a)))).toBeLessThan(0.002);
    expect(pixelDiff(right, await tensor(await side(b)))).toBeLessThan(0.002);
    expect(pixelDiff(left, right)).toBeGreaterThan(0.05);
  });

  it('clamps a region that overhangs the image and rejects one outside it', async () => {
    const png = await catalogPng(1, { size: 100 });
    const clamped = await tensor(png, { region: { x: -20, y: -20, width: 500, height: 500 } });
    expect(pixelDiff(clamped, await tensor(png))).toBeLessThan(1e-6);
    await expect(
      preprocessImage(png, spec, { region: { x: 150, y: 0, width: 10, height: 10 } }),
    ).rejects.toBeInstanceOf(InvalidRegionError);
    await expect(
      preprocessImage(png, spec, { region: { x: 0, y: 0, width: 0, height: 10 } }),
    ).rejects.toBeInstanceOf(InvalidRegionError);
  });

  it('trims a uniform border so a small product on a big canvas fills the input', async () => {
    const tight = await tensor(await catalogPng(2, { size: 280, margin: 0 }));
    const loose = await catalogPng(2, { size: 900, margin: 0.35 });
    const trimmed = await tensor(loose);
    const untrimmed = await tensor(loose, { trim: false });
    expect(pixelDiff(trimmed, tight)).toBeLessThan(0.02);
    expect(pixelDiff(untrimmed, tight)).toBeGreaterThan(3 * pixelDiff(trimmed, tight));
  });
});

describe('inspectImage: limits and typed errors', () => {
  it('rejects an empty upload as corrupt', async () => {
    await expect(inspectImage(new Uint8Array(0))).rejects.toBeInstanceOf(CorruptImageError);
  });

  it('rejects bytes that are not an image, and SVG, and HEIC, as unsupported', async () => {
    const text = new TextEncoder().encode('hello, this is not an image');
    await expect(inspectImage(text)).rejects.toMatchObject({
      code: 'UNSUPPORTED_IMAGE',
      mime: null,
    });
    const svg = new TextEncoder().encode(
      '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>',
    );
    await expect(inspectImage(svg)).rejects.toBeInstanceOf(UnsupportedImageError);
    const heic = Buffer.concat([
      Buffer.from([0, 0, 0, 24]),
      Buffer.from('ftypheic\0\0\0\0mif1heic', 'latin1'),
    ]);
    await expect(inspectImage(heic)).rejects.toMatchObject({
      code: 'UNSUPPORTED_IMAGE',
      mime: 'image/heic',
    });
  });

  it('rejects truncated JPEG and PNG files as corrupt', async () => {
    const jpeg = await sharp(await catalogPng(4))
      .jpeg()
      .toBuffer();
    const png = await catalogPng(4);
    for (const bytes of [
      jpeg.subarray(0, Math.floor(jpeg.length / 2)),
      png.subarray(0, Math.floor(png.length / 2)),
    ]) {
      await expect(preprocessImage(bytes, spec)).rejects.toBeInstanceOf(CorruptImageError);
    }
    // Only the header survives: the type is sniffed, the dimensions cannot be read.
    await expect(preprocessImage(jpeg.subarray(0, 20), spec)).rejects.toBeInstanceOf(
      CorruptImageError,
    );
  });

  it('refuses a pixel bomb from its header, before decoding', async () => {
    const bomb = pngBomb(60_000, 60_000);
    expect(bomb.length).toBeLessThan(100);
    const err = await inspectImage(bomb).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImageTooLargeError);
    expect(err).toMatchObject({
      unit: 'pixels',
      actual: 3_600_000_000,
      limit: DEFAULT_LIMITS.maxPixels,
    });
  });

  it('refuses more bytes than the limit', async () => {
    const png = await catalogPng(5, { size: 400 });
    const err = await inspectImage(png, { ...DEFAULT_LIMITS, maxBytes: png.length - 1 }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ImageTooLargeError);
    expect(err).toMatchObject({ unit: 'bytes', actual: png.length });
  });

  it('reports the sniffed type and displayed size', async () => {
    const info = await inspectImage(greyItem(0));
    expect(info).toMatchObject({ mime: 'image/png', width: 28, height: 28, channels: 1 });
  });
});
