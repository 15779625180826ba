import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmbedder, type Embedder } from './embedder.js';
import { cosine, PARITY_DIR, parityReference } from './testing/images.js';

// tools/model/train.py embedded these PNG files in PyTorch (through preprocess.py) when it
// exported the model. Reproducing those vectors through sharp + preprocess.ts + ONNX Runtime
// proves serving preprocesses exactly as training did: luma, polarity, background subtraction,
// trim, fit, resampling, normalisation.
const reference = parityReference();

describe('parity with the PyTorch reference embeddings', () => {
  let embedder: Embedder;
  beforeAll(async () => {
    embedder = await createEmbedder({ model: 'fashion-resnet', device: 'cpu' });
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
    const bytes = await readFile(path.join(PARITY_DIR, image.file));
    const { vector } = await embedder.embed(bytes);
    expect(cosine(vector, image.embedding)).toBeGreaterThanOrEqual(0.999);
  });
});
