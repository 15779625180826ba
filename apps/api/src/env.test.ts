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

  it('bounds how long a request may take to arrive: 60 s in all, 10 s of headers, 15 s of body silence', () => {
    const config = loadConfig({});
    expect(config.REQUEST_TIMEOUT_MS).toBe(60_000);
    expect(config.HEADERS_TIMEOUT_MS).toBe(10_000);
    expect(config.BODY_IDLE_TIMEOUT_MS).toBe(15_000);
    const set = loadConfig({
      REQUEST_TIMEOUT_MS: '120000',
      HEADERS_TIMEOUT_MS: '5000',
      BODY_IDLE_TIMEOUT_MS: '0',
    });
    expect([set.REQUEST_TIMEOUT_MS, set.HEADERS_TIMEOUT_MS, set.BODY_IDLE_TIMEOUT_MS]).toEqual([
      120_000, 5_000, 0,
    ]);
    expect(() => loadConfig({ REQUEST_TIMEOUT_MS: '-1' })).toThrow(/REQUEST_TIMEOUT_MS/);
    expect(() => loadConfig({ HEADERS_TIMEOUT_MS: '1.5' })).toThrow(/HEADERS_TIMEOUT_MS/);
    expect(() => loadConfig({ BODY_IDLE_TIMEOUT_MS: 'soon' })).toThrow(/BODY_IDLE_TIMEOUT_MS/);
    expect(() => loadConfig({ REQUEST_TIMEOUT_MS: String(2 * 3_600_000) })).toThrow(
      /REQUEST_TIMEOUT_MS/,
    );
  });

  it('stops with the variable name on a bad value', () => {
    expect(() => loadConfig({ MODELS: ' , ' })).toThrow(/MODELS: name at least one model/);
    expect(() => loadConfig({ CACHE_TTL_MS: '-1' })).toThrow(/CACHE_TTL_MS/);
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT/);
    expect(loadConfig({ CACHE_TTL_MS: '0' }).CACHE_TTL_MS).toBe(0);
  });
});
