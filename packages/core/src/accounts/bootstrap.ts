import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Db } from '@lookalike/db';
import { generateApiKey, hashSecret } from '../keys/api-key.js';
import { ALL_SCOPES, type ApiKeyService } from '../keys/api-key.service.js';
import type { ServingModels } from '../settings/serving.js';

export interface BootstrapOptions {
  /** Registered with all scopes instead of a generated key (BOOTSTRAP_API_KEY). */
  bootstrapKey?: string | undefined;
  /** Where a generated key is written (DATA_DIR/bootstrap-key, mode 0600). */
  dataDir: string;
}

export interface BootstrapResult {
  merchantId: string;
  /** True when this start created the default merchant (an empty database). */
  created: boolean;
  /** The generated key, on the start that created it; never again. */
  generatedKey?: string;
  /** Where the generated key was written. */
  keyFile?: string;
  /** The model serving the default merchant. */
  servingModel: string;
  /** The configured default model (the first of MODELS). */
  configuredModel: string;
}

/**
 * First start on an empty database: create the default merchant, its first key (all scopes)
 * and its model (the configured default), in one transaction. An existing database keeps the model it
 * serves (a different configured default is reported, not applied: switching is activateModel's
 * job). Safe with several processes starting at once (advisory lock).
 */
export async function bootstrap(
  db: Db,
  apiKeys: ApiKeyService,
  serving: ServingModels,
  configuredModel: string,
  options: BootstrapOptions,
): Promise<BootstrapResult> {
  return db.withLock('lookalike:bootstrap', async () => {
    const existing = await db.merchants.first();
    let merchantId: string;
    let generatedKey: string | undefined;
    if (existing) {
      merchantId = existing.id;
      // The install's bootstrap key is the platform operator's: one made before merchants
      // existed gains MERCHANTS_ADMIN.
      await db.apiKeys.grantScopeToFirst(
        merchantId,
        ['bootstrap', 'bootstrap (BOOTSTRAP_API_KEY)'],
        'MERCHANTS_ADMIN',
      );
    } else {
      // The merchant, its model and its first key stand or fall together: a merchant left
      // without a key would lock its owner out on every later start.
      await db.models.ensureIndexes(configuredModel);
      const created = await db.transaction(async (tx) => {
        const merchant = await tx.merchants.create('Default merchant');
        await tx.merchantModels.activateIfNone(merchant.id, configuredModel);
        if (options.bootstrapKey) return { merchant, token: undefined };
        const { token, prefix, secret } = generateApiKey();
        await tx.apiKeys.create(merchant.id, {
          name: 'bootstrap',
          prefix,
          secretHash: hashSecret(secret),
          scopes: [...ALL_SCOPES],
        });
        return { merchant, token };
      });
      merchantId = created.merchant.id;
      generatedKey = created.token;
    }
    if (options.bootstrapKey) {
      await apiKeys.register(
        merchantId,
        'bootstrap (BOOTSTRAP_API_KEY)',
        options.bootstrapKey,
        ALL_SCOPES,
      );
    }
    const result: BootstrapResult = {
      merchantId,
      created: !existing,
      servingModel: (await serving.get(merchantId)).modelId,
      configuredModel,
    };
    if (generatedKey) {
      const keyFile = path.join(options.dataDir, 'bootstrap-key');
      await mkdir(options.dataDir, { recursive: true });
      await writeFile(keyFile, `${generatedKey}\n`, { mode: 0o600 });
      await chmod(keyFile, 0o600);
      result.generatedKey = generatedKey;
      result.keyFile = keyFile;
    }
    return result;
  });
}
