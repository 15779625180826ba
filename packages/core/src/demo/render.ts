import { seededRandom } from '@lookalike/search';
import sharp from 'sharp';

export interface Colour {
  name: string;
  rgb: [number, number, number];
}

/** Product colours of the demo catalog (labels.color). */
export const COLOURS: Colour[] = [
  { name: 'black', rgb: [25, 25, 28] },
  { name: 'navy', rgb: [28, 40, 92] },
  { name: 'red', rgb: [170, 30, 40] },
  { name: 'green', rgb: [40, 110, 60] },
  { name: 'brown', rgb: [110, 70, 40] },
  { name: 'grey', rgb: [90, 90, 95] },
  { name: 'blue', rgb: [40, 90, 170] },
  { name: 'burgundy', rgb: [100, 20, 40] },
];

/**
 * A Fashion-MNIST item as a merchant's catalog photo: the product in colour on a white
 * background (the dataset's polarity inverted), upscaled to `size` px, PNG.
 */
export async function renderCatalogImage(
  pixels: Uint8Array,
  colour: Colour,
  size = 256,
): Promise<Buffer> {
  const gray = await sharp(Buffer.from(pixels), { raw: { width: 28, height: 28, channels: 1 } })
    .resize(size, size, { kernel: 'lanczos3' })
    // Keep one channel: sharp would hand back 3 (sRGB) for a single-channel raw input.
    .toColourspace('b-w')
    .raw()
    .toBuffer();
  const rgb = Buffer.alloc(size * size * 3);
  for (let i = 0; i < size * size; i++) {
    const a = (gray[i] ?? 0) / 255;
    for (let c = 0; c < 3; c++)
      rgb[i * 3 + c] = Math.round(255 * (1 - a) + (colour.rgb[c] ?? 0) * a);
  }
  return sharp(rgb, { raw: { width: size, height: size, channels: 3 } })
    .png()
    .toBuffer();
}

/**
 * A shopper's phone photo of a catalog image: larger, slightly rotated, cropped off-centre with
 * a margin of table or wall, tinted, a little blurred, JPEG-compressed. Deterministic per seed.
 */
export async function renderShopperPhoto(catalogImage: Uint8Array, seed: number): Promise<Buffer> {
  const random = seededRandom(seed);
  const between = (lo: number, hi: number) => lo + (hi - lo) * random();
  const meta = await sharp(catalogImage).metadata();
  const side = meta.width;
  const background = {
    r: Math.round(between(215, 245)),
    g: Math.round(between(210, 240)),
    b: Math.round(between(200, 235)),
  };
  const margin = Math.round(side * between(0.1, 0.3));
  // The product lies on a table or wall of its own colour: multiplying the white-background
  // catalog image onto it keeps the product and takes the colour of the surface around it.
  const canvas = side + 2 * margin;
  const placed = await sharp({ create: { width: canvas, height: canvas, channels: 3, background } })
    .composite([
      {
        input: await sharp(catalogImage).flatten({ background: '#ffffff' }).toBuffer(),
        left: margin,
        top: margin,
        blend: 'multiply',
      },
    ])
    .png()
    .toBuffer();
  const rotated = await sharp(placed)
    .rotate(between(-8, 8), { background })
    .toBuffer({ resolveWithObject: true });
  const { width, height } = rotated.info;
  // Crop away part of the margin, off-centre, as a hand-held framing would.
  const cropW = Math.round(width * between(0.85, 0.97));
  const cropH = Math.round(height * between(0.85, 0.97));
  const left = Math.round((width - cropW) * random());
  const top = Math.round((height - cropH) * random());
  return sharp(rotated.data)
    .extract({ left, top, width: cropW, height: cropH })
    .resize({ width: Math.round(between(600, 1200)) })
    .modulate({
      brightness: between(0.9, 1.1),
      saturation: between(0.8, 1.2),
      hue: Math.round(between(-10, 10)),
    })
    .blur(between(0.4, 1.2))
    .jpeg({ quality: Math.round(between(60, 85)) })
    .toBuffer();
}
