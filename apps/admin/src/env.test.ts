import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseEnv } from './env';

const ADMIN_DIR = path.resolve(import.meta.dirname, '..');
const ROOT = path.resolve(ADMIN_DIR, '..', '..');

describe('parseEnv', () => {
  it('has defaults: the API on 127.0.0.1:4000, port 3000, the repository .data', () => {
    const env = parseEnv({}, ADMIN_DIR);
    expect(env).toMatchObject({
      API_URL: 'http://127.0.0.1:4000',
      ADMIN_PORT: 3000,
      dataDir: path.join(ROOT, '.data'),
    });
    expect(env.ADMIN_SESSION_SECRET).toBeUndefined();
  });

  it('resolves a relative DATA_DIR from where npm ran and trims the API URL', () => {
    const env = parseEnv(
      { DATA_DIR: 'var/data', INIT_CWD: '/srv/shop', API_URL: 'http://api:4000/' },
      ADMIN_DIR,
    );
    expect(env.dataDir).toBe('/srv/shop/var/data');
    expect(env.API_URL).toBe('http://api:4000');
  });

  it('names the variable that is wrong', () => {
    expect(() => parseEnv({ ADMIN_PORT: 'eighty' })).toThrow(/ADMIN_PORT/);
    expect(() => parseEnv({ ADMIN_SESSION_SECRET: 'short' })).toThrow(
      /ADMIN_SESSION_SECRET: must be at least 32/,
    );
    expect(() => parseEnv({ API_URL: 'not a url' })).toThrow(/API_URL/);
  });
});
