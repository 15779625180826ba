import 'server-only';
import path from 'node:path';
import { cookies, headers } from 'next/headers';
import { redirect } from 'next/navigation';
import { cache } from 'react';
import { env } from '@/env';
import { ViewerDocument } from '@lookalike/sdk';
import type { ApiScope, Viewer } from '@/lib/types';
import { ApiClient, ApiError } from './graphql';
import { openSession, sealSession, type SessionPayload } from './session-crypto';
import { cacheUnlessRejected, loadSessionSecret } from './session-secret';
import { createSessionStore, type SessionStore } from './session-store';

export const SESSION_COOKIE = 'lk_admin_session';
/** A working day and then some; signing in again takes a paste. */
const SESSION_TTL_MS = 7 * 24 * 3600 * 1000;
/** Under DATA_DIR, beside the session secret: one file per open session (session-store.ts). */
const SESSIONS_DIR = 'admin-sessions';

const sessionSecret = cacheUnlessRejected(() => {
  const e = env();
  return loadSessionSecret(e.ADMIN_SESSION_SECRET, e.dataDir);
});

let store: SessionStore | undefined;
/** The open sessions; the cookie alone is not enough, so sign-out ends a session for good. */
function sessions(): SessionStore {
  store ??= createSessionStore({
    dir: path.join(env().dataDir, SESSIONS_DIR),
    maxAgeMs: SESSION_TTL_MS,
  });
  return store;
}

/** The sealed cookie's payload, or null when it is absent, forged or expired. */
async function openCookie(value: string | undefined): Promise<SessionPayload | null> {
  return openSession(await sessionSecret(), value, SESSION_COOKIE);
}

/** Secure cookies when the browser reached us over https (directly or via a proxy). */
async function servedOverHttps(): Promise<boolean> {
  const h = await headers();
  const proto = h.get('x-forwarded-proto')?.split(',')[0]?.trim();
  return proto === 'https';
}

/** Sign in: only in server actions and route handlers, which may set cookies. */
export async function startSession(key: string): Promise<void> {
  const jar = await cookies();
  // A session this browser still had ends: one browser, one session.
  const previous = await openCookie(jar.get(SESSION_COOKIE)?.value);
  if (previous) await sessions().end(previous.sid);
  const sid = await sessions().create();
  const now = Date.now();
  const value = sealSession(
    await sessionSecret(),
    { key, sid, iat: now, exp: now + SESSION_TTL_MS },
    SESSION_COOKIE,
  );
  jar.set(SESSION_COOKIE, value, {
    httpOnly: true,
    secure: await servedOverHttps(),
    sameSite: 'lax',
    path: '/',
    maxAge: SESSION_TTL_MS / 1000,
  });
}

/** Sign out: the session ends on the server (a copy of the cookie stops working) and here. */
export async function endSession(): Promise<void> {
  const jar = await cookies();
  const payload = await openCookie(jar.get(SESSION_COOKIE)?.value);
  if (payload) await sessions().end(payload.sid);
  jar.delete(SESSION_COOKIE);
}

/** The API key of this request's session, or null: the cookie must open and its session be open. */
export const sessionKey = cache(async (): Promise<string | null> => {
  const payload = await openCookie((await cookies()).get(SESSION_COOKIE)?.value);
  if (!payload) return null;
  return (await sessions().isLive(payload.sid)) ? payload.key : null;
});

export interface Session {
  api: ApiClient;
  viewer: Viewer;
  can: (scope: ApiScope) => boolean;
}

/**
 * This request's session with the API's word on who the key is. Null when there is no cookie
 * or the API no longer accepts the key (revoked). One viewer query per request (React cache).
 */
export const getSession = cache(async (): Promise<Session | null> => {
  const key = await sessionKey();
  if (!key) return null;
  const api = new ApiClient(env().API_URL, key);
  try {
    const { viewer } = await api.request(ViewerDocument);
    return { api, viewer, can: (scope) => viewer.apiKey.scopes.includes(scope) };
  } catch (error) {
    if (error instanceof ApiError && error.code === 'UNAUTHENTICATED') return null;
    throw error;
  }
});

/** For pages: the session, or off to the sign-in page. */
export async function requireSession(): Promise<Session> {
  const session = await getSession();
  if (!session) redirect('/signin');
  return session;
}

/** For actions and route handlers: the session or an ApiError the caller turns into a message. */
export async function sessionOrThrow(): Promise<Session> {
  const session = await getSession();
  if (!session)
    throw new ApiError('Your session has ended; sign in again.', 'UNAUTHENTICATED', 401);
  return session;
}

/**
 * For actions and route handlers that change something: the session, when its key has `scope`
 * (the API checks it again); else FORBIDDEN saying what needs it, e.g. "uploads need".
 */
export async function sessionWithScope(scope: ApiScope, needs: string): Promise<Session> {
  const session = await sessionOrThrow();
  if (!session.can(scope))
    throw new ApiError(`This key has no ${scope} scope, which ${needs}.`, 'FORBIDDEN', 403);
  return session;
}
