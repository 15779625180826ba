import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createEmbedder } from './embedder.js';
import { loadManifest } from './manifest.js';
import { stripClassifier } from './onnx-graph.js';

const FIXTURE = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  'test',
  'fixtures',
  'tiny-classifier',
);

describe('stripClassifier', () => {
  it('exposes the pooled feature that PyTorch computed for the same input', async () => {
    // tools/model/make_test_models.py: conv -> ReLU -> pool -> Flatten -> Gemm, 4-d features.
    const expected = JSON.parse(await readFile(path.join(FIXTURE, 'expected.json'), 'utf8')) as {
      features: number[][];
    };
    const embedder = await createEmbedder({ model: await loadManifest(FIXTURE), device: 'cpu' });
    try {
      const x = Float32Array.from({ length: 384 }, (_, i) => -1 + (2 * i) / 383);
      for (const [k, half] of [x.subarray(0, 192), x.subarray(192)].entries()) {
        const v = await embedder.embedTensor(Float32Array.from(half));
        expect(v.length).toBe(4);
        [...v].forEach((f, j) => {
          expect(f).toBeCloseTo(expected.features[k]![j]!, 5);
        });
      }
    } finally {
      await embedder.close();
    }
  });

  it('refuses a graph that does not end in a classifier', async () => {
    const model = await readFile(path.join(FIXTURE, 'model.onnx'));
    const once = stripClassifier(model, 'features', 4, 'model tiny');
    expect(() => stripClassifier(once, 'again', 4, 'model tiny')).toThrow(
      /model tiny: .*not produced by a Gemm/,
    );
  });
});
