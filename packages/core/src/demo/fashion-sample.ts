import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';

export const FASHION_CATEGORIES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
] as const;

export interface FashionSample {
  /** 28x28 grayscale, light product on black, row-major. */
  images: Uint8Array[];
  /** Index into FASHION_CATEGORIES. */
  labels: number[];
}

const DEMO_DIR = path.resolve(import.meta.dirname, '..', '..', 'demo');

/**
 * The committed sample of Fashion-MNIST's test split (packages/core/demo, made by
 * tools/demo/make_demo_sample.py): the demo catalog needs no Debian package at run time.
 */
export async function readFashionSample(dir = DEMO_DIR): Promise<FashionSample> {
  const images = gunzipSync(await readFile(path.join(dir, 'fashion-sample-images-idx3-ubyte.gz')));
  const labels = gunzipSync(await readFile(path.join(dir, 'fashion-sample-labels-idx1-ubyte.gz')));
  if (images.readUInt32BE(0) !== 2051 || labels.readUInt32BE(0) !== 2049) {
    throw new Error(`demo sample in ${dir} is not in IDX format`);
  }
  const count = images.readUInt32BE(4);
  if (labels.readUInt32BE(4) !== count)
    throw new Error('demo sample: image and label counts differ');
  const size = images.readUInt32BE(8) * images.readUInt32BE(12);
  return {
    images: Array.from({ length: count }, (_, i) =>
      images.subarray(16 + i * size, 16 + (i + 1) * size),
    ),
    labels: Array.from(labels.subarray(8, 8 + count)),
  };
}
