import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Db } from '@lookalike/db';
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
 * First start on an empty database: create the default merchant and its first key, with all
 * scopes, and give it the configured default model. An existing database keeps the model it
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
    const merchant = existing ?? (await db.merchants.create('Default merchant'));
    const result: BootstrapResult = {
      merchantId: merchant.id,
      created: !existing,
      servingModel: (await serving.get(merchant.id)).modelId,
      configuredModel,
    };
    if (options.bootstrapKey) {
      await apiKeys.register(
        merchant.id,
        'bootstrap (BOOTSTRAP_API_KEY)',
        options.bootstrapKey,
        ALL_SCOPES,
      );
    } else if (!existing) {
      const { token } = await apiKeys.create(merchant.id, 'bootstrap', ALL_SCOPES);
      const keyFile = path.join(options.dataDir, 'bootstrap-key');
      await mkdir(options.dataDir, { recursive: true });
      await writeFile(keyFile, `${token}\n`, { mode: 0o600 });
      await chmod(keyFile, 0o600);
      result.generatedKey = token;
      result.keyFile = keyFile;
    }
    return result;
  });
}
