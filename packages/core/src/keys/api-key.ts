import { createHash, randomInt } from 'node:crypto';

/** Keys look like lk_<prefix>_<secret>: 12 and 40 base62 characters. */
export const API_KEY_PATTERN = /^lk_([A-Za-z0-9]{12})_([A-Za-z0-9]{40})$/;

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
