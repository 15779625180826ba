import type { ApiKeyService, Principal } from '@lookalike/core';
import type { RequestHandler, Response } from 'express';
import { ErrorCode } from '../graphql/errors.js';
import type { RateLimiter } from './rate-limit.js';

/** The principal bearerAuth put on a request. */
export function principalOf(res: Response): Principal {
  const principal = (res.locals as { principal?: Principal }).principal;
  if (!principal) throw new Error('bearerAuth did not run before this handler');
  return principal;
}

/**
 * `Authorization: Bearer lk_…`, checked before anything reads the request body: without a valid
 * key the answer is 401, past the key's rate limit 429 with Retry-After, and the body (an upload,
 * maybe) is never read: the connection closes after the answer. The answer has the shape of a
 * GraphQL error, so clients handle it like any other.
 */
export function bearerAuth(apiKeys: ApiKeyService, limiter: RateLimiter): RequestHandler {
  const refuse = (
    res: Response,
    status: number,
    code: string,
    message: string,
    extensions: Record<string, unknown> = {},
  ) => {
    res.set('Connection', 'close');
    res.status(status).json({ errors: [{ message, extensions: { code, ...extensions } }] });
  };
  return async (req, res, next) => {
    const match = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    if (!match) {
      refuse(res, 401, ErrorCode.UNAUTHENTICATED, 'Send an API key: "Authorization: Bearer lk_…"');
      return;
    }
    const principal = await apiKeys.authenticate(match[1] as string);
    if (!principal) {
      refuse(res, 401, ErrorCode.UNAUTHENTICATED, 'Invalid or revoked API key');
      return;
    }
    const wait = await limiter.take(principal.keyId);
    if (wait > 0) {
      res.set('Retry-After', String(wait));
      refuse(
        res,
        429,
        ErrorCode.RATE_LIMITED,
        `Rate limit of ${limiter.perMinute} requests per minute exceeded; retry in ${wait} s`,
        { retryAfter: wait },
      );
      return;
    }
    (res.locals as { principal?: Principal }).principal = principal;
    next();
  };
}
