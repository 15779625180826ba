import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModelError } from './errors.js';
import {
  bundledModelPath,
  loadDetectorManifest,
  loadManifest,
  parseDetectorManifest,
  parseManifest,
} from './manifest.js';

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

  it('accepts kind "embedder" as the same as no kind', () => {
    expect(parseManifest({ ...valid, kind: 'embedder' }, 'test')).toEqual(
      parseManifest(valid, 'test'),
    );
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

describe('detector manifests', () => {
  const valid = {
    id: 'd',
    version: 3,
    kind: 'detector',
    file: 'model.onnx',
    sha256: 'b'.repeat(64),
    input: {
      name: 'image',
      layout: 'NCHW',
      size: 128,
      channels: 3,
      colour: 'rgb',
      fit: 'letterbox',
      pad: [0.5, 0.5, 0.5],
      mean: [0.5, 0.5, 0.5],
      std: [0.25, 0.25, 0.25],
    },
    output: { heatmap: 'heatmap', size: 'size', offset: 'offset', stride: 4 },
    classes: ['shirt', 'bag'],
    decode: { minScore: 0.3, maxObjects: 10, nmsIoU: 0.5 },
  };

  it('loads the bundled detector by id and by directory', async () => {
    const byId = await loadDetectorManifest('product-detector');
    const byDir = await loadDetectorManifest(bundledModelPath('product-detector'));
    expect(byId.modelPath).toBe(byDir.modelPath);
    expect(byId).toMatchObject({
      key: 'product-detector-v1',
      kind: 'detector',
      input: { size: 128, fit: 'letterbox', background: 'white' },
      output: { stride: 4 },
      decode: { minScore: 0.3, maxObjects: 10, nmsIoU: 0.5 },
    });
    expect(byId.classes).toHaveLength(10);
  });

  it('accepts a valid manifest, white background by default', () => {
    const m = parseDetectorManifest(valid, 'test');
    expect(m.input.background).toBe('white');
    expect(m.classes).toEqual(['shirt', 'bag']);
  });

  it.each([
    ['no kind (an embedder)', { kind: undefined }, /model d-v3: is an embedder \(no "kind"\)/],
    ['kind embedder', { kind: 'embedder' }, /model d-v3: is an embedder \(kind "embedder"\)/],
    ['another kind', { kind: 'segmenter' }, /model d-v3: "kind" must be "detector"/],
    ['a bad hash', { sha256: 'xyz' }, /model d-v3: "sha256"/],
    ['no classes', { classes: [] }, /model d-v3: "classes" must be a non-empty array/],
    ['a class that is not a name', { classes: ['a', 3] }, /"classes"/],
    [
      'a stride that does not divide the size',
      { output: { ...valid.output, stride: 5 } },
      /model d-v3 output: "stride" 5 must divide the input size 128/,
    ],
    ['no decode', { decode: undefined }, /model d-v3: "decode" must be an object/],
    [
      'minScore above 1',
      { decode: { ...valid.decode, minScore: 1.5 } },
      /model d-v3 decode: "minScore" must be a number in \[0, 1\]/,
    ],
    [
      'a fractional maxObjects',
      { decode: { ...valid.decode, maxObjects: 2.5 } },
      /model d-v3 decode: "maxObjects"/,
    ],
    [
      'another fit',
      { input: { ...valid.input, fit: 'resize-crop' } },
      /model d-v3 input: "fit" must be "letterbox"/,
    ],
    [
      'pad out of range',
      { input: { ...valid.input, pad: [0.5, 2, 0.5] } },
      /model d-v3 input: "pad" must be an array of 3 numbers in \[0, 1\]/,
    ],
    [
      'a zero std',
      { input: { ...valid.input, std: [0.25, 0, 0.25] } },
      /model d-v3 input: "std" values must be > 0/,
    ],
  ])('rejects %s, naming the model', (_name, patch, message) => {
    const json = { ...valid, ...patch };
    expect(() => parseDetectorManifest(json, 'test')).toThrow(ModelError);
    expect(() => parseDetectorManifest(json, 'test')).toThrow(message);
  });

  it('refuses a detector where an embedder is expected', async () => {
    expect(() => parseManifest(valid, 'test')).toThrow(
      /model d-v3: is a detector \(kind "detector"\), not an embedder: load it with loadDetectorManifest/,
    );
    await expect(loadManifest('product-detector')).rejects.toThrow(ModelError);
    await expect(loadDetectorManifest('fashion-resnet')).rejects.toThrow(
      /model fashion-resnet-v1: is an embedder/,
    );
  });
});
