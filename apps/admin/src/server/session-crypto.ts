import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/**
 * The session cookie's value: AES-256-GCM over a small JSON payload. GCM both encrypts (the API
 * key inside never shows, not even to the browser that holds it) and authenticates (a changed
 * byte fails the tag), so the cookie is sealed and signed in one. The key is derived from the
 * session secret with HKDF; the cookie name is additional authenticated data.
 */
export interface SessionPayload {
  /** The merchant's API key. */
  key: string;
  /** The session's id in the session store (session-store.ts): sign-out ends it there. */
  sid: string;
  /** Issued and expiry times, ms since the epoch. */
  iat: number;
  exp: number;
}

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

function deriveKey(secret: string): Buffer {
  return Buffer.from(
    hkdfSync('sha256', secret, 'lookalike-admin-session', 'aes-256-gcm cookie v1', 32),
  );
}

export function sealSession(secret: string, payload: SessionPayload, aad: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', deriveKey(secret), iv);
  cipher.setAAD(Buffer.from(aad));
  const body = Buffer.concat([cipher.update(JSON.stringify(payload), 'utf8'), cipher.final()]);
  return `${VERSION}.${Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url')}`;
}

/** The payload, or null when the value is malformed, forged, for another name, or expired. */
export function openSession(
  secret: string,
  value: string | undefined,
  aad: string,
  now = Date.now(),
): SessionPayload | null {
  if (!value?.startsWith(`${VERSION}.`)) return null;
  const raw = Buffer.from(value.slice(VERSION.length + 1), 'base64url');
  if (raw.length < IV_BYTES + TAG_BYTES + 2) return null;
  try {
    const decipher = createDecipheriv('aes-256-gcm', deriveKey(secret), raw.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(aad));
    decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
    const text = Buffer.concat([
      decipher.update(raw.subarray(IV_BYTES, raw.length - TAG_BYTES)),
      decipher.final(),
    ]).toString('utf8');
    const payload = JSON.parse(text) as Partial<SessionPayload>;
    if (
      typeof payload.key !== 'string' ||
      typeof payload.sid !== 'string' ||
      typeof payload.exp !== 'number' ||
      typeof payload.iat !== 'number'
    )
      return null;
    if (payload.exp <= now) return null;
    return { key: payload.key, sid: payload.sid, iat: payload.iat, exp: payload.exp };
  } catch {
    return null;
  }
}
