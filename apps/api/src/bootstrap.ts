import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Db } from '@lookalike/db';
import { ALL_SCOPES, type ApiKeyService } from './auth/api-key.service.js';

export interface BootstrapResult {
  merchantId: string;
  /** True when this start created the default merchant (an empty database). */
  created: boolean;
  /** The generated key, on the start that created it; never again. */
  generatedKey?: string;
  /** Where the generated key was written. */
  keyFile?: string;
}

/**
 * First start on an empty database: create the default merchant and its first key, with all
 * scopes. BOOTSTRAP_API_KEY, when set, is that key; otherwise one is generated, printed once by
 * the caller and written to DATA_DIR/bootstrap-key (mode 0600). Safe with several API processes
 * starting at once (advisory lock).
 */
export async function bootstrap(
  db: Db,
  apiKeys: ApiKeyService,
  options: { bootstrapKey?: string | undefined; dataDir: string },
): Promise<BootstrapResult> {
  return db.withLock('lookalike:bootstrap', async () => {
    const existing = await db.merchants.first();
    const merchant = existing ?? (await db.merchants.create('Default merchant'));
    const result: BootstrapResult = { merchantId: merchant.id, created: !existing };
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
