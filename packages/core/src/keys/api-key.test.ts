import { describe, expect, it } from 'vitest';
import { generateApiKey, hashSecret, parseApiKey } from './api-key.js';

describe('API key format', () => {
  it('generates lk_<12>_<40> keys that parse back, with distinct secrets', () => {
    const keys = Array.from({ length: 50 }, () => generateApiKey());
    for (const k of keys) {
      expect(k.token).toMatch(/^lk_[A-Za-z0-9]{12}_[A-Za-z0-9]{40}$/);
      expect(parseApiKey(k.token)).toEqual({ prefix: k.prefix, secret: k.secret });
    }
    expect(new Set(keys.map((k) => k.secret)).size).toBe(50);
  });

  it('rejects anything else', () => {
    for (const bad of [
      '',
      'lk_',
      'lk_abc_def',
      `lk_${'a'.repeat(12)}_${'b'.repeat(39)}`,
      `LK_${'a'.repeat(12)}_${'b'.repeat(40)}`,
      `lk_${'a'.repeat(12)}_${'b'.repeat(40)} `,
      `lk_${'a'.repeat(11)}-_${'b'.repeat(40)}`,
    ]) {
      expect(parseApiKey(bad)).toBeNull();
    }
  });

  it('stores SHA-256 of the secret, never the secret', () => {
    expect(hashSecret('abc')).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
  });
});
