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

export interface SceneItem {
  /** A Fashion-MNIST item: 28x28 grayscale, light product on black. */
  pixels: Uint8Array;
  colour: Colour;
}

export interface ScenePhoto {
  /** JPEG. */
  photo: Buffer;
  width: number;
  height: number;
  /** Each item's tight box (its visible pixels), in the order given. */
  boxes: { x: number; y: number; width: number; height: number }[];
}

/**
 * A shopper's photo of several products side by side on a grey, grained surface (a table top):
 * each item coloured as its catalog photo is (renderCatalogImage) and laid on the surface instead
 * of on white, `itemSize` px, in a row. Deterministic per seed; reports where each product is,
 * to test detection against.
 */
export async function renderScenePhoto(
  items: readonly SceneItem[],
  seed: number,
  { itemSize = 224 }: { itemSize?: number } = {},
): Promise<ScenePhoto> {
  const random = seededRandom(seed);
  const between = (lo: number, hi: number) => lo + (hi - lo) * random();
  const gap = Math.round(itemSize * 0.3);
  const margin = Math.round(itemSize * 0.25);
  const width = 2 * margin + items.length * itemSize + Math.max(0, items.length - 1) * gap;
  const height = 2 * margin + itemSize;
  // The surface: a grey with a slight tint, a slow wood-grain ripple and fine grain, within
  // about +-12 levels, as a table or a wall under even light.
  const grey = between(165, 190);
  const tint = [between(-6, 6), between(-6, 6), between(-6, 6)];
  const phase = between(0, Math.PI * 2);
  const canvas = new Float32Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const ripple = 5 * Math.sin(x / 23 + 3 * Math.sin(y / 57 + phase)) + 2 * Math.sin(y / 9);
      const grain = (random() - 0.5) * 8;
      for (let c = 0; c < 3; c++)
        canvas[(y * width + x) * 3 + c] = grey + (tint[c] ?? 0) + ripple + grain;
    }
  }
  const boxes: ScenePhoto['boxes'] = [];
  for (const [i, item] of items.entries()) {
    const alpha = await sharp(Buffer.from(item.pixels), {
      raw: { width: 28, height: 28, channels: 1 },
    })
      .resize(itemSize, itemSize, { kernel: 'lanczos3' })
      .toColourspace('b-w')
      .raw()
      .toBuffer();
    const left = margin + i * (itemSize + gap);
    const top = Math.round(margin * between(0.4, 1.6));
    let [x0, y0, x1, y1] = [itemSize, itemSize, -1, -1];
    for (let y = 0; y < itemSize; y++) {
      for (let x = 0; x < itemSize; x++) {
        const a = (alpha[y * itemSize + x] ?? 0) / 255;
        if (a > 0.1)
          [x0, y0, x1, y1] = [Math.min(x0, x), Math.min(y0, y), Math.max(x1, x), Math.max(y1, y)];
        const at = ((top + y) * width + left + x) * 3;
        for (let c = 0; c < 3; c++)
          canvas[at + c] = (canvas[at + c] ?? 0) * (1 - a) + (item.colour.rgb[c] ?? 0) * a;
      }
    }
    boxes.push({ x: left + x0, y: top + y0, width: x1 - x0 + 1, height: y1 - y0 + 1 });
  }
  const rgb = Buffer.alloc(width * height * 3);
  for (let i = 0; i < rgb.length; i++)
    rgb[i] = Math.max(0, Math.min(255, Math.round(canvas[i] ?? 0)));
  const photo = await sharp(rgb, { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 90 })
    .toBuffer();
  return { photo, width, height, boxes };
}
