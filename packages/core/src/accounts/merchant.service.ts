import type { Db, MerchantRecord } from '@lookalike/db';
import { badInput } from '../errors.js';
import { generateApiKey, hashSecret } from '../keys/api-key.js';
import { MERCHANT_SCOPES, toApiKeyInfo, type ApiKeyInfo } from '../keys/api-key.service.js';

function hasControlCharacters(text: string): boolean {
  for (const c of text) if (c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f) return true;
  return false;
}

export interface CreatedMerchant {
  merchant: MerchantRecord;
  /** Its first key (every merchant scope); the token is shown this once. */
  key: ApiKeyInfo;
  token: string;
}

export interface MerchantPage {
  items: MerchantRecord[];
  hasNextPage: boolean;
}

/**
 * Merchants on a platform: the operator (a key with MERCHANTS_ADMIN) creates and lists them.
 * Everything else a key does stays inside its own merchant: every repository takes the
 * merchant id, and services are called with the principal's.
 */
export class MerchantService {
  constructor(
    private readonly db: Db,
    /** The model a new merchant starts on: the configured default. */
    private readonly defaultModel: () => string,
  ) {}

  /**
   * The merchant, its first key and its model in one transaction: a merchant never exists
   * without a way in.
   */
  async create(name: string): Promise<CreatedMerchant> {
    const trimmed = name.trim();
    if (trimmed === '' || trimmed.length > 200 || hasControlCharacters(trimmed)) {
      throw badInput('name must be 1–200 characters without control characters', 'name');
    }
    const model = this.defaultModel();
    await this.db.models.ensureIndexes(model);
    const { token, prefix, secret } = generateApiKey();
    return this.db.transaction(async (tx) => {
      const merchant = await tx.merchants.create(trimmed);
      await tx.merchantModels.activateIfNone(merchant.id, model);
      const key = await tx.apiKeys.create(merchant.id, {
        name: 'first key',
        prefix,
        secretHash: hashSecret(secret),
        scopes: [...MERCHANT_SCOPES],
      });
      return { merchant, key: toApiKeyInfo(key), token };
    });
  }

  async get(id: string): Promise<MerchantRecord | null> {
    return this.db.merchants.get(id);
  }

  /** Oldest first; `after` is the id of the last merchant of the previous page. */
  async list({
    first = 50,
    after,
  }: {
    first?: number;
    after?: string | null;
  }): Promise<MerchantPage> {
    if (!Number.isInteger(first) || first < 1 || first > 200) {
      throw badInput('first must be an integer in [1, 200]', 'first');
    }
    if (after && !/^[0-9a-f-]{36}$/i.test(after)) {
      throw badInput('after is not a merchant id', 'after');
    }
    return this.db.merchants.page(first, after ?? undefined);
  }
}
