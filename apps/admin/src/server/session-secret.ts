import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

export const SECRET_FILE = 'admin-session-secret';

/**
 * The session secret: ADMIN_SESSION_SECRET when set; otherwise DATA_DIR/admin-session-secret,
 * generated on first use (32 random bytes, hex, mode 0600). `wx` makes concurrent first starts
 * agree on one secret: the loser of the race reads the winner's file.
 */
export async function loadSessionSecret(
  configured: string | undefined,
  dataDir: string,
): Promise<string> {
  if (configured) return configured;
  const file = path.join(dataDir, SECRET_FILE);
  const read = async () => {
    const secret = (await readFile(file, 'utf8')).trim();
    if (secret.length < 32)
      throw new Error(
        `${file} holds no usable session secret (under 32 characters); delete it to generate a new one`,
      );
    return secret;
  };
  try {
    return await read();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(dataDir, { recursive: true });
  try {
    await writeFile(file, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
    await chmod(file, 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  return read();
}

/**
 * `load` run once and its answer shared by every later caller, except a failure: a rejected
 * promise is dropped, so a secret file fixed (or a disk remounted) is picked up by the next
 * request instead of failing every sign-in until the dashboard restarts.
 */
export function cacheUnlessRejected<T>(load: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= load().catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
    return pending;
  };
}
