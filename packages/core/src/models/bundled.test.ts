import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { modelsDir } from '@lookalike/inference';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoreError } from '../errors.js';
import { writeVersionedModels } from '../testing/versioned-models.js';
import { bundledModels, modelLocation, parseModelKey, resolveBundled } from './bundled.js';

describe('bundled model names', () => {
  let dir: string;
  let folders: Map<number, string>;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'lookalike-bundled-'));
    // Versions 1, 2 and 10 of one id (10 > 2 numerically, not as text), another id, a
    // detector, and folders that are not models.
    folders = await writeVersionedModels(dir, { id: 'shoes', versions: [1, 2, 10] });
    await writeVersionedModels(dir, { id: 'bags', versions: [1] });
    await mkdir(path.join(dir, 'finder'));
    await writeFile(
      path.join(dir, 'finder', 'model.json'),
      JSON.stringify({ id: 'finder', version: 1, kind: 'detector' }),
    );
    await mkdir(path.join(dir, 'notes'));
    await writeFile(path.join(dir, 'notes', 'model.json'), '{ not json');
    await mkdir(path.join(dir, 'empty'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('lists the folders with a manifest, by id and version', () => {
    expect(bundledModels(dir).map((m) => [m.key, m.kind, path.basename(m.dir)])).toEqual([
      ['bags-v1', 'embedder', 'bags'],
      ['finder-v1', 'detector', 'finder'],
      ['shoes-v1', 'embedder', 'shoes'],
      ['shoes-v2', 'embedder', 'shoes-v2'],
      ['shoes-v10', 'embedder', 'shoes-v10'],
    ]);
  });

  it('an id is its newest version, a key exactly that version', () => {
    expect(resolveBundled('shoes', dir)).toMatchObject({ key: 'shoes-v10', dir: folders.get(10) });
    expect(resolveBundled('shoes-v1', dir)).toMatchObject({ key: 'shoes-v1', dir: folders.get(1) });
    expect(resolveBundled('shoes-v2', dir).dir).toBe(folders.get(2));
    expect(modelLocation('bags', dir)).toBe(path.join(dir, 'bags'));
    expect(modelLocation('shoes-v1', dir)).toBe(folders.get(1));
  });

  it('paths are used as given', () => {
    expect(modelLocation('./some/model', dir)).toBe(path.resolve('some/model'));
    expect(modelLocation('model.json', dir)).toBe(path.resolve('model.json'));
  });

  it('an unknown name is BAD_USER_INPUT listing the bundled ids and keys', () => {
    const error = (() => {
      try {
        resolveBundled('hats', dir);
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(error).toBeInstanceOf(CoreError);
    expect(error).toMatchObject({ code: 'BAD_USER_INPUT', details: { model: 'hats' } });
    expect((error as Error).message).toBe(
      'unknown model hats: bundled ids: bags, shoes (the newest version); keys: bags-v1, shoes-v1, shoes-v2, shoes-v10 (exactly that version); or give a model directory or model.json path',
    );
    expect(() => resolveBundled('shoes-v3', dir)).toThrow(/unknown model shoes-v3/);
    expect(() => modelLocation('finder', dir)).toThrow(
      /model finder is a detector model, not an embedding model/,
    );
  });

  it('refuses a version bundled twice', async () => {
    const twice = await mkdtemp(path.join(tmpdir(), 'lookalike-bundled-'));
    try {
      await writeVersionedModels(twice, { id: 'a', versions: [1] });
      const folder = path.join(twice, 'a-copy');
      await mkdir(folder);
      await writeFile(path.join(folder, 'model.json'), JSON.stringify({ id: 'a', version: 1 }));
      expect(() => resolveBundled('a', twice)).toThrow(/a-v1 is bundled twice/);
      expect(() => resolveBundled('a-v1', twice)).toThrow(/a-v1 is bundled twice/);
    } finally {
      await rm(twice, { recursive: true, force: true });
    }
  });

  it('parses model keys', () => {
    expect(parseModelKey('fashion-resnet-v12')).toEqual({ id: 'fashion-resnet', version: 12 });
    expect(parseModelKey('fashion-resnet')).toBeNull();
    expect(parseModelKey('x-v0')).toBeNull();
  });

  it("the repository's models: fashion-resnet is its newest version, fashion-resnet-v1 stays v1", () => {
    const fashion = bundledModels().filter((m) => m.id === 'fashion-resnet');
    expect(fashion.map((m) => m.version)).toContain(1);
    const newest = Math.max(...fashion.map((m) => m.version));
    expect(resolveBundled('fashion-resnet')).toMatchObject({
      key: `fashion-resnet-v${newest}`,
    });
    expect(modelLocation('fashion-resnet-v1')).toBe(path.join(modelsDir(), 'fashion-resnet'));
    expect(resolveBundled('colour-thumbnail').key).toBe('colour-thumbnail-v1');
  });
});
