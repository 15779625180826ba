import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { CreateApiKeyInput, Db } from '@lookalike/db';
import { badInput } from '../errors.js';
import { generateApiKey, hashSecret, parseApiKey } from '../keys/api-key.js';
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
  /**
   * The generated key, on the start that created it (the first start; or one that found the
   * default merchant without any key); never again.
   */
  generatedKey?: string;
  /** Where the generated key was written. */
  keyFile?: string;
  /** The model serving the default merchant. */
  servingModel: string;
  /** The configured default model (the first of MODELS). */
  configuredModel: string;
}

/** Write a generated key to DATA_DIR/bootstrap-key (mode 0600); returns the file's path. */
async function saveKey(dataDir: string, token: string): Promise<string> {
  const keyFile = path.join(dataDir, 'bootstrap-key');
  await mkdir(dataDir, { recursive: true });
  await writeFile(keyFile, `${token}\n`, { mode: 0o600 });
  await chmod(keyFile, 0o600);
  return keyFile;
}

/**
 * A generated key, saved before it is stored: a start that cannot save it stores nothing,
 * and one that stops in between leaves a file whose key never worked (the next start, which
 * finds no merchant, writes over it). Never a stored key nobody can know.
 */
async function generateSaved(
  dataDir: string,
): Promise<{ token: string; keyFile: string; input: CreateApiKeyInput }> {
  const { token, prefix, secret } = generateApiKey();
  const keyFile = await saveKey(dataDir, token);
  return {
    token,
    keyFile,
    input: { name: 'bootstrap', prefix, secretHash: hashSecret(secret), scopes: [...ALL_SCOPES] },
  };
}

/** Run `store`; should it fail, the key file saved for it goes too. */
async function storeOrUnsave<T>(keyFile: string | undefined, store: () => Promise<T>): Promise<T> {
  try {
    return await store();
  } catch (error) {
    if (keyFile) await rm(keyFile, { force: true });
    throw error;
  }
}

/**
 * First start on an empty database: create the default merchant, its first key (all scopes:
 * generated, or BOOTSTRAP_API_KEY's) and its model (the configured default), in one
 * transaction: a merchant left without a key would lock its owner out on every later start.
 * An existing database keeps the model it serves (a different configured default is reported,
 * not applied: switching is activateModel's job). A default merchant found without any key (an
 * interrupted first start of an older version) is given one, generated like a first start's.
 * Safe with several processes starting at once (advisory lock).
 */
export async function bootstrap(
  db: Db,
  apiKeys: ApiKeyService,
  serving: ServingModels,
  configuredModel: string,
  options: BootstrapOptions,
): Promise<BootstrapResult> {
  let given: CreateApiKeyInput | undefined;
  if (options.bootstrapKey) {
    const parsed = parseApiKey(options.bootstrapKey);
    if (!parsed) throw badInput('BOOTSTRAP_API_KEY is not an API key (lk_<prefix>_<secret>)');
    given = {
      name: 'bootstrap (BOOTSTRAP_API_KEY)',
      prefix: parsed.prefix,
      secretHash: hashSecret(parsed.secret),
      scopes: [...ALL_SCOPES],
    };
  }
  return db.withLock('lookalike:bootstrap', async () => {
    const existing = await db.merchants.first();
    let merchantId: string;
    let generated: { token: string; keyFile: string } | undefined;
    if (existing) {
      merchantId = existing.id;
      // The install's bootstrap key is the platform operator's: one made before merchants
      // existed gains MERCHANTS_ADMIN.
      await db.apiKeys.grantScopeToFirst(
        merchantId,
        ['bootstrap', 'bootstrap (BOOTSTRAP_API_KEY)'],
        'MERCHANTS_ADMIN',
      );
      if (options.bootstrapKey) {
        await apiKeys.register(merchantId, 'bootstrap (BOOTSTRAP_API_KEY)', options.bootstrapKey, [
          ...ALL_SCOPES,
        ]);
      } else if ((await db.apiKeys.list(merchantId)).length === 0) {
        // Never had a key (revoked ones count: revoking them all is the owner's choice).
        const key = await generateSaved(options.dataDir);
        await storeOrUnsave(key.keyFile, () => db.apiKeys.create(merchantId, key.input));
        generated = key;
      }
    } else {
      await db.models.ensureIndexes(configuredModel);
      const key = given ? undefined : await generateSaved(options.dataDir);
      const input = given ?? key?.input;
      if (!input) throw new Error('bootstrap: no key to store');
      const merchant = await storeOrUnsave(key?.keyFile, () =>
        db.transaction(async (tx) => {
          const created = await tx.merchants.create('Default merchant');
          await tx.merchantModels.activateIfNone(created.id, configuredModel);
          await tx.apiKeys.create(created.id, input);
          return created;
        }),
      );
      merchantId = merchant.id;
      generated = key;
    }
    const result: BootstrapResult = {
      merchantId,
      created: !existing,
      servingModel: (await serving.get(merchantId)).modelId,
      configuredModel,
    };
    if (generated) {
      result.generatedKey = generated.token;
      result.keyFile = generated.keyFile;
    }
    return result;
  });
}
