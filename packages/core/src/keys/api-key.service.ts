import { timingSafeEqual } from 'node:crypto';
import { API_SCOPES, type ApiKeyRecord, type ApiScope, type Db } from '@lookalike/db';
import { TtlCache, type Clock } from '../cache/ttl-cache.js';
import { badInput, notFound } from '../errors.js';
import { generateApiKey, hashSecret, parseApiKey } from './api-key.js';

export const ALL_SCOPES: readonly ApiScope[] = API_SCOPES;

/**
 * What a merchant's own keys may hold: everything but the platform operator's scope, which
 * only the bootstrap key of an install holds (it creates and lists merchants).
 */
export const MERCHANT_SCOPES: readonly ApiScope[] = API_SCOPES.filter(
  (s) => s !== 'MERCHANTS_ADMIN',
);

/** Who a request acts for: the key's merchant, the key, what it may do. */
export interface Principal {
  merchantId: string;
  keyId: string;
  keyPrefix: string;
  scopes: ApiScope[];
}

/** A key as its owner may see it: never the secret, nor its hash. */
export interface ApiKeyInfo {
  id: string;
  name: string;
  prefix: string;
  scopes: ApiScope[];
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

export function toApiKeyInfo(key: ApiKeyRecord): ApiKeyInfo {
  return {
    id: key.id,
    name: key.name,
    prefix: key.prefix,
    scopes: key.scopes,
    createdAt: key.createdAt,
    lastUsedAt: key.lastUsedAt,
    revokedAt: key.revokedAt,
  };
}

/** lastUsedAt is written at most this often per key, not on every request. */
const TOUCH_INTERVAL_MS = 60_000;

export interface ApiKeyServiceOptions {
  /** How long a verified key is trusted without asking the database (0: always ask). */
  cacheTtlMs: number;
  now?: Clock;
}

/**
 * API keys: verify a bearer token, create (the secret shown once), list, revoke. A verified
 * key is cached for `cacheTtlMs` by the SHA-256 of the whole token, so a request does not cost a
 * database round trip for its key; revoking a key drops it from this process's cache at once,
 * and other processes stop accepting it within `cacheTtlMs`.
 */
export class ApiKeyService {
  private readonly touched = new Map<string, number>();
  private readonly verified: TtlCache<string, Principal>;
  private readonly now: Clock;

  constructor(
    private readonly db: Db,
    options: ApiKeyServiceOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.verified = new TtlCache(options.cacheTtlMs, 10_000, this.now);
  }

  /** The principal of a bearer token, or null for a malformed, unknown, wrong or revoked key. */
  async authenticate(token: string): Promise<Principal | null> {
    const parsed = parseApiKey(token);
    if (!parsed) return null;
    const cacheKey = hashSecret(token);
    // Stored on a miss only: a key in constant use is still checked again every cacheTtlMs.
    const principal = await this.verified.getOrLoad(
      cacheKey,
      async () => (await this.verify(parsed.prefix, parsed.secret)) ?? undefined,
    );
    if (!principal) return null;
    const now = this.now();
    if (now - (this.touched.get(principal.keyId) ?? 0) > TOUCH_INTERVAL_MS) {
      this.touched.set(principal.keyId, now);
      void this.db.apiKeys.touch(principal.keyId).catch(() => undefined);
    }
    return principal;
  }

  private async verify(prefix: string, secret: string): Promise<Principal | null> {
    const key = await this.db.apiKeys.findByPrefix(prefix);
    if (!key || key.revokedAt) return null;
    const expected = Buffer.from(key.secretHash, 'hex');
    const actual = Buffer.from(hashSecret(secret), 'hex');
    if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) return null;
    return { merchantId: key.merchantId, keyId: key.id, keyPrefix: key.prefix, scopes: key.scopes };
  }

  /** A new key for the merchant; the token (with its secret) is returned this once only. */
  async create(
    merchantId: string,
    name: string,
    scopes: readonly ApiScope[],
  ): Promise<{ key: ApiKeyInfo; token: string }> {
    if (name.trim() === '' || name.length > 200)
      throw badInput('name must be 1–200 characters', 'name');
    if (scopes.length === 0) throw badInput('a key needs at least one scope', 'scopes');
    const { token, prefix, secret } = generateApiKey();
    const key = await this.db.apiKeys.create(merchantId, {
      name: name.trim(),
      prefix,
      secretHash: hashSecret(secret),
      scopes: [...new Set(scopes)],
    });
    return { key: toApiKeyInfo(key), token };
  }

  /** Register a key whose token is already known (BOOTSTRAP_API_KEY). */
  async register(
    merchantId: string,
    name: string,
    token: string,
    scopes: readonly ApiScope[],
  ): Promise<ApiKeyInfo> {
    const parsed = parseApiKey(token);
    if (!parsed) throw badInput('malformed API key');
    const existing = await this.db.apiKeys.findByPrefix(parsed.prefix);
    if (existing) return toApiKeyInfo(existing);
    return toApiKeyInfo(
      await this.db.apiKeys.create(merchantId, {
        name,
        prefix: parsed.prefix,
        secretHash: hashSecret(parsed.secret),
        scopes: [...scopes],
      }),
    );
  }

  async get(merchantId: string, id: string): Promise<ApiKeyInfo | null> {
    const key = await this.db.apiKeys.get(merchantId, id);
    return key ? toApiKeyInfo(key) : null;
  }

  async list(merchantId: string): Promise<ApiKeyInfo[]> {
    return (await this.db.apiKeys.list(merchantId)).map(toApiKeyInfo);
  }

  /** Revoke a key of the merchant; false when it was revoked already. */
  async revoke(merchantId: string, id: string): Promise<boolean> {
    const key = await this.db.apiKeys.get(merchantId, id);
    if (!key) throw notFound(`API key ${id}`);
    this.verified.deleteWhere((p) => p.keyId === id);
    if (key.revokedAt) return false;
    return this.db.apiKeys.revoke(merchantId, id);
  }
}
