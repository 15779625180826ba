import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmbedder, type Embedder } from './embedder.js';
import { modelsDir } from './manifest.js';
import { cosine, type ParityReference } from './testing/images.js';

// The model's build script embedded these PNG files in PyTorch (through preprocess.py) when it
// exported the model: tools/model/train.py for v1, build_fashion_resnet_v2.py for v2.
// Reproducing those vectors through sharp + preprocess.ts + ONNX Runtime proves serving
// preprocesses exactly as training did: luma, polarity, background subtraction, trim, fit,
// resampling, normalisation and, for v2, the crop's colours.
const VERSIONS = [
  { folder: 'fashion-resnet', key: 'fashion-resnet-v1' },
  { folder: 'fashion-resnet-v2', key: 'fashion-resnet-v2' },
];

describe.each(VERSIONS)('parity with the PyTorch reference embeddings: $key', ({ folder, key }) => {
  const dir = path.join(modelsDir(), folder);
  const reference = JSON.parse(
    readFileSync(path.join(dir, 'parity', 'reference.json'), 'utf8'),
  ) as ParityReference;
  let embedder: Embedder;
  beforeAll(async () => {
    embedder = await createEmbedder({ model: dir, device: 'cpu' });
    expect(embedder.info.key).toBe(key);
  });
  afterAll(async () => {
    await embedder.close();
  });

  it('covers grey, colour-on-white and transparent images', () => {
    expect(reference.images.length).toBeGreaterThanOrEqual(24);
    for (const kind of ['-grey-', '-catalog-', '-alpha-']) {
      expect(reference.images.filter((i) => i.file.includes(kind)).length).toBeGreaterThanOrEqual(
        8,
      );
    }
  });

  it.each(reference.images.map((i) => [i.file, i] as const))('%s', async (_file, image) => {
    const bytes = await readFile(path.join(dir, 'parity', image.file));
    const { vector } = await embedder.embed(bytes);
    expect(cosine(vector, image.embedding)).toBeGreaterThanOrEqual(0.999);
  });
});
