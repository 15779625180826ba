import { describe, expect, it } from 'vitest';
import { loadConfig } from './env.js';

describe('loadConfig', () => {
  it('loads the bundled models by default, the trained embedder first', () => {
    expect(loadConfig({}).MODELS).toEqual(['fashion-resnet', 'colour-thumbnail']);
  });

  it('reads MODELS as a comma-separated list, and MODEL as the one model of earlier versions', () => {
    expect(loadConfig({ MODELS: ' colour-thumbnail , ./models/x ,' }).MODELS).toEqual([
      'colour-thumbnail',
      './models/x',
    ]);
    expect(loadConfig({ MODEL: 'fashion-resnet' }).MODELS).toEqual(['fashion-resnet']);
    expect(loadConfig({ MODEL: 'a', MODELS: 'b' }).MODELS).toEqual(['b']);
  });

  it('loads the bundled product detector by default; DETECTOR=none turns detection off', () => {
    expect(loadConfig({}).DETECTOR).toBe('product-detector');
    expect(loadConfig({ DETECTOR: './models/my-detector' }).DETECTOR).toBe('./models/my-detector');
    expect(loadConfig({ DETECTOR: 'none' }).DETECTOR).toBeNull();
    expect(loadConfig({ DETECTOR: 'None' }).DETECTOR).toBeNull();
    // Empty is unset, as for every variable: the default.
    expect(loadConfig({ DETECTOR: '' }).DETECTOR).toBe('product-detector');
    expect(() => loadConfig({ DETECTOR: '   ' })).toThrow(/DETECTOR/);
  });

  it('upgrades merchants to a newer default model on start unless MODEL_UPGRADE=off', () => {
    expect(loadConfig({}).MODEL_UPGRADE).toBe('auto');
    expect(loadConfig({ MODEL_UPGRADE: 'off' }).MODEL_UPGRADE).toBe('off');
    expect(loadConfig({ MODEL_UPGRADE: 'auto' }).MODEL_UPGRADE).toBe('auto');
    expect(() => loadConfig({ MODEL_UPGRADE: 'yes' })).toThrow(/MODEL_UPGRADE/);
  });

  it('stops with the variable name on a bad value', () => {
    expect(() => loadConfig({ MODELS: ' , ' })).toThrow(/MODELS: name at least one model/);
    expect(() => loadConfig({ CACHE_TTL_MS: '-1' })).toThrow(/CACHE_TTL_MS/);
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT/);
    expect(loadConfig({ CACHE_TTL_MS: '0' }).CACHE_TTL_MS).toBe(0);
  });
});
