import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModelError } from './errors.js';
import { bundledModelPath, loadManifest, parseManifest } from './manifest.js';

describe('loadManifest', () => {
  it('finds bundled models by id and by directory', async () => {
    const byId = await loadManifest('fashion-resnet');
    const byDir = await loadManifest(bundledModelPath('fashion-resnet'));
    expect(byId.modelPath).toBe(byDir.modelPath);
    expect(byId.key).toBe('fashion-resnet-v1');
  });

  it('reads the ResNet-50 manifest: ImageNet preprocessing, 2048-d, a download with sha256', async () => {
    const m = await loadManifest('resnet50-imagenet');
    expect(m.input).toMatchObject({
      size: 224,
      channels: 3,
      colour: 'rgb',
      fit: 'resize-crop',
      resizeShorter: 256,
    });
    expect(m.input.mean).toEqual([0.485, 0.456, 0.406]);
    expect(m.output).toMatchObject({ dims: 2048, stripClassifier: true });
    expect(m.download?.url).toMatch(/^https:\/\//);
    expect(m.download?.sha256).toBe(m.sha256);
  });

  it('names the file for unreadable or invalid JSON', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'lookalike-manifest-'));
    try {
      await expect(loadManifest(dir)).rejects.toThrow(
        /model manifest .*model\.json cannot be read/,
      );
      await writeFile(path.join(dir, 'model.json'), '{ nope');
      await expect(loadManifest(dir)).rejects.toThrow(/not valid JSON/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('parseManifest', () => {
  const valid = {
    id: 'm',
    version: 2,
    file: 'model.onnx',
    sha256: 'a'.repeat(64),
    input: {
      name: 'x',
      layout: 'NCHW',
      size: 28,
      channels: 1,
      colour: 'luma-bt601',
      background: 'white',
      polarity: 'bright-on-dark',
      fit: 'trim-fit-pad',
      trim: true,
      trimTolerance: 0.1,
      trimMinLineFraction: 0.01,
      workingSize: 256,
      mean: [0.3],
      std: [0.35],
    },
    output: { name: 'y', dims: 128, normalize: true },
  };

  it('accepts a valid manifest', () => {
    expect(parseManifest(valid, 'test').output.dims).toBe(128);
  });

  it.each([
    ['a bad hash', { sha256: 'xyz' }, /model m-v2: "sha256"/],
    [
      'mean of the wrong length',
      { input: { ...valid.input, mean: [0.1, 0.2, 0.3] } },
      /model m-v2 input: mean\/std/,
    ],
    [
      'colour/channel mismatch',
      { input: { ...valid.input, channels: 3, mean: [0, 0, 0], std: [1, 1, 1] } },
      /does not match 3 channel/,
    ],
    ['zero dims', { output: { ...valid.output, dims: 0 } }, /model m-v2 output: "dims"/],
  ])('rejects %s, naming the model', (_name, patch, message) => {
    expect(() => parseManifest({ ...valid, ...patch }, 'test')).toThrow(ModelError);
    expect(() => parseManifest({ ...valid, ...patch }, 'test')).toThrow(message);
  });
});
