import { createHash, randomInt, timingSafeEqual } from 'node:crypto';
import { API_SCOPES, type ApiKeyRecord, type ApiScope, type Db } from '@lookalike/db';
import { API_KEY_PATTERN } from '../env.js';
import { badInput, notFound } from '../errors.js';

export const ALL_SCOPES: readonly ApiScope[] = API_SCOPES;

const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function randomBase62(length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += BASE62.charAt(randomInt(BASE62.length));
  return out;
}

/**
 * SHA-256 of the secret. The secret is 40 random base62 characters (~238 bits), so a fast hash
 * is enough: there is nothing to brute-force that a slow KDF would protect (unlike passwords).
 */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export interface Principal {
  merchantId: string;
  keyId: string;
  keyPrefix: string;
  scopes: ApiScope[];
}

export interface ParsedKey {
  prefix: string;
  secret: string;
}

export function parseApiKey(token: string): ParsedKey | null {
  const m = API_KEY_PATTERN.exec(token);
  return m ? { prefix: m[1] as string, secret: m[2] as string } : null;
}

export function generateApiKey(): { token: string } & ParsedKey {
  const prefix = randomBase62(12);
  const secret = randomBase62(40);
  return { token: `lk_${prefix}_${secret}`, prefix, secret };
}

/** lastUsedAt is written at most this often per key, not on every request. */
const TOUCH_INTERVAL_MS = 60_000;

export class ApiKeyService {
  private readonly touched = new Map<string, number>();

  constructor(private readonly db: Db) {}

  /** The principal of a bearer token, or null for a malformed, unknown, wrong or revoked key. */
  async authenticate(token: string): Promise<Principal | null> {
    const parsed = parseApiKey(token);
    if (!parsed) return null;
    const key = await this.db.apiKeys.findByPrefix(parsed.prefix);
    if (!key || key.revokedAt) return null;
    const expected = Buffer.from(key.secretHash, 'hex');
    const actual = Buffer.from(hashSecret(parsed.secret), 'hex');
    if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) return null;
    const now = Date.now();
    if (now - (this.touched.get(key.id) ?? 0) > TOUCH_INTERVAL_MS) {
      this.touched.set(key.id, now);
      void this.db.apiKeys.touch(key.id).catch(() => undefined);
    }
    return { merchantId: key.merchantId, keyId: key.id, keyPrefix: key.prefix, scopes: key.scopes };
  }

  /** A new key for the merchant; the token (with its secret) is returned this once only. */
  async create(
    merchantId: string,
    name: string,
    scopes: readonly ApiScope[],
  ): Promise<{ key: ApiKeyRecord; token: string }> {
    if (name.trim() === '' || name.length > 200)
      throw badInput('name must be 1–200 characters', 'name');
    if (scopes.length === 0) throw badInput('a key needs at least one scope', 'scopes');
    const { token, prefix, secret } = generateApiKey();
    const key = await this.db.apiKeys.create(merchantId, {
      name: name.trim(),
      prefix,
      secretHash: hashSecret(secret),
      scopes: [...scopes],
    });
    return { key, token };
  }

  /** Register a key whose token is already known (BOOTSTRAP_API_KEY). */
  async register(
    merchantId: string,
    name: string,
    token: string,
    scopes: readonly ApiScope[],
  ): Promise<ApiKeyRecord> {
    const parsed = parseApiKey(token);
    if (!parsed) throw badInput('malformed API key');
    const existing = await this.db.apiKeys.findByPrefix(parsed.prefix);
    if (existing) return existing;
    return this.db.apiKeys.create(merchantId, {
      name,
      prefix: parsed.prefix,
      secretHash: hashSecret(parsed.secret),
      scopes: [...scopes],
    });
  }

  list(merchantId: string): Promise<ApiKeyRecord[]> {
    return this.db.apiKeys.list(merchantId);
  }

  async revoke(principal: Principal, id: string): Promise<boolean> {
    const key = await this.db.apiKeys.get(principal.merchantId, id);
    if (!key) throw notFound(`API key ${id}`);
    if (key.revokedAt) return false;
    return this.db.apiKeys.revoke(principal.merchantId, id);
  }
}
