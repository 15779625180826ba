import { readFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { bundledModelPath } from '../manifest.js';

/** Test images built from the committed parity fixtures (real Fashion-MNIST test items). */
export const PARITY_DIR = path.join(bundledModelPath('fashion-resnet'), 'parity');

export interface ParityReference {
  model: string;
  version: number;
  images: { file: string; label: string; testIndex: number; embedding: number[] }[];
}

export function parityReference(): ParityReference {
  return JSON.parse(
    readFileSync(path.join(PARITY_DIR, 'reference.json'), 'utf8'),
  ) as ParityReference;
}

/** The 28x28 grey Fashion-MNIST item (bright product on black) of a parity fixture. */
export function greyItem(index: number): Buffer {
  const ref = parityReference();
  const grey = ref.images.filter((i) => i.file.includes('-grey-'));
  return readFileSync(path.join(PARITY_DIR, grey[index % grey.length]!.file));
}

/**
 * A merchant-style catalog image: the item as a dark product in colour on white, enlarged to
 * `size` px with white margins. Returned as raw RGB so each test encodes it as it needs.
 */
export async function catalogRaw(
  index: number,
  { size = 300, margin = 0.15, colour = [40, 60, 150] as [number, number, number] } = {},
): Promise<{ data: Buffer; width: number; height: number }> {
  const { data: g } = await sharp(greyItem(index))
    .extractChannel(0)
    .raw()
    .toBuffer({ resolveWithObject: true });
  const rgb = Buffer.alloc(28 * 28 * 3);
  for (let i = 0; i < 28 * 28; i++) {
    const v = g[i]! / 255;
    for (let c = 0; c < 3; c++) rgb[3 * i + c] = Math.round((1 - v) * 255 + v * colour[c]!);
  }
  const inner = Math.round(size * (1 - 2 * margin));
  const pad = Math.floor((size - inner) / 2);
  const { data, info } = await sharp(rgb, { raw: { width: 28, height: 28, channels: 3 } })
    .resize(inner, inner, { kernel: 'cubic' })
    .extend({
      top: pad,
      bottom: size - inner - pad,
      left: pad,
      right: size - inner - pad,
      background: '#ffffff',
    })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

export async function catalogPng(
  index: number,
  opts?: Parameters<typeof catalogRaw>[1],
): Promise<Buffer> {
  const raw = await catalogRaw(index, opts);
  return sharp(raw.data, { raw: { width: raw.width, height: raw.height, channels: 3 } })
    .png()
    .toBuffer();
}

export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return dot / Math.sqrt(na * nb);
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/**
 * A "pixel bomb": a valid PNG header that declares width x height pixels, followed by a tiny
 * compressed stream. Decoding it would need gigabytes; it must be refused from the header.
 */
export function pngBomb(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // greyscale
  const idat = Buffer.from([0x78, 0x9c, 0x63, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01]); // zlib of one zero byte
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', idat),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
