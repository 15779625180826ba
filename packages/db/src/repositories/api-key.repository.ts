import type { DbClient } from '../client.js';
import { InvalidArgumentError } from '../errors.js';
import { assertText, isUuid } from './validate.js';

export const API_SCOPES = [
  'SEARCH',
  'CATALOG_WRITE',
  'SETTINGS_WRITE',
  'KEYS_ADMIN',
  'MERCHANTS_ADMIN',
  'EVALUATE',
] as const;
export type ApiScope = (typeof API_SCOPES)[number];

export interface ApiKeyRecord {
  id: string;
  merchantId: string;
  name: string;
  prefix: string;
  /** Hash of the secret; the secret is never stored. */
  secretHash: string;
  scopes: ApiScope[];
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

export interface CreateApiKeyInput {
  name: string;
  prefix: string;
  secretHash: string;
  scopes: ApiScope[];
}

function validate(input: CreateApiKeyInput): void {
  assertText(input.name, 'key name', { min: 1, max: 200 });
  if (!/^[A-Za-z0-9]{6,32}$/.test(input.prefix)) {
    throw new InvalidArgumentError('key prefix must be 6–32 letters or digits');
  }
  assertText(input.secretHash, 'secretHash', { min: 32, max: 512 });
  if (input.scopes.length === 0) throw new InvalidArgumentError('a key needs at least one scope');
  for (const scope of input.scopes) {
    if (!API_SCOPES.includes(scope)) throw new InvalidArgumentError(`unknown scope ${scope}`);
  }
}

/** API keys. Lookup by prefix is global (it is how a request finds its merchant). */
export class ApiKeyRepository {
  constructor(private readonly prisma: DbClient) {}

  async create(merchantId: string, input: CreateApiKeyInput): Promise<ApiKeyRecord> {
    validate(input);
    return this.prisma.apiKey.create({
      data: { ...input, scopes: [...new Set(input.scopes)], merchantId },
    });
  }

  /** The key with this public prefix, revoked or not; the caller checks hash and revocation. */
  async findByPrefix(prefix: string): Promise<ApiKeyRecord | null> {
    if (!/^[A-Za-z0-9]{6,32}$/.test(prefix)) return null;
    return this.prisma.apiKey.findUnique({ where: { prefix } });
  }

  async get(merchantId: string, id: string): Promise<ApiKeyRecord | null> {
    if (!isUuid(id)) return null;
    return this.prisma.apiKey.findFirst({ where: { id, merchantId } });
  }

  async list(merchantId: string): Promise<ApiKeyRecord[]> {
    return this.prisma.apiKey.findMany({ where: { merchantId }, orderBy: { createdAt: 'desc' } });
  }

  /** Revoke a live key; false when it does not exist for this merchant or is already revoked. */
  async revoke(merchantId: string, id: string): Promise<boolean> {
    if (!isUuid(id)) return false;
    const { count } = await this.prisma.apiKey.updateMany({
      where: { id, merchantId, revokedAt: null },
      data: { revokedAt: new Date() },
    });
    return count > 0;
  }

  /**
   * Add `scope` to the merchant's first key when it is named one of `names` and lacks it (an
   * install's bootstrap key gains a scope introduced after it was made; a key created later
   * under the same name does not). Returns how many keys changed.
   */
  async grantScopeToFirst(
    merchantId: string,
    names: readonly string[],
    scope: ApiScope,
  ): Promise<number> {
    return this.prisma.$executeRaw`
      UPDATE api_keys SET scopes = array_append(scopes, ${scope}::"ApiScope")
      WHERE id = (SELECT id FROM api_keys WHERE merchant_id = ${merchantId}::uuid
                  ORDER BY created_at, id LIMIT 1)
        AND name = ANY(${[...names]}::text[]) AND revoked_at IS NULL
        AND NOT (${scope}::"ApiScope" = ANY(scopes))`;
  }

  async touch(id: string, at = new Date()): Promise<void> {
    if (!isUuid(id)) return;
    await this.prisma.apiKey.updateMany({ where: { id }, data: { lastUsedAt: at } });
  }
}
