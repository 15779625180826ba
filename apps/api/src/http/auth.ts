import type { ApiKeyService, Principal } from '@lookalike/core';
import type { Request } from 'express';
import { apiError, ErrorCode } from '../graphql/errors.js';
import type { RateLimiter } from './rate-limit.js';

/**
 * The principal of a request, from `Authorization: Bearer lk_…`, or a GraphQL error Apollo
 * answers with its HTTP status: 401 without a valid key, 429 (with Retry-After) past the key's
 * rate limit.
 */
export function bearerAuth(apiKeys: ApiKeyService, limiter: RateLimiter) {
  return async (req: Request): Promise<Principal> => {
    const header = req.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) {
      throw apiError(ErrorCode.UNAUTHENTICATED, 'Send an API key: "Authorization: Bearer lk_…"');
    }
    const principal = await apiKeys.authenticate(match[1] as string);
    if (!principal) throw apiError(ErrorCode.UNAUTHENTICATED, 'Invalid or revoked API key');
    const wait = limiter.take(principal.keyId);
    if (wait > 0) {
      throw apiError(
        ErrorCode.RATE_LIMITED,
        `Rate limit of ${limiter.perMinute} requests per minute exceeded; retry in ${wait} s`,
        {
          retryAfter: wait,
          http: { status: 429, headers: new Map([['retry-after', String(wait)]]) },
        },
      );
    }
    return principal;
  };
}
