import type { GraphQLErrorEntry } from './transport.js';

/**
 * The codes a LookalikeError carries: the API's `extensions.code` values, and two of the SDK's
 * own for answers that never came (API_UNREACHABLE) or were not GraphQL (BAD_RESPONSE).
 */
export type LookalikeErrorCode =
  | 'BAD_USER_INPUT'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'RATE_LIMITED'
  | 'SERVICE_UNAVAILABLE'
  | 'GRAPHQL_VALIDATION_FAILED'
  | 'INTERNAL_SERVER_ERROR'
  | 'API_UNREACHABLE'
  | 'BAD_RESPONSE'
  | (string & {});

/** An error the API answered (or the SDK's own when no answer came), with its code. */
export class LookalikeError extends Error {
  override readonly name = 'LookalikeError';

  constructor(
    message: string,
    readonly code: LookalikeErrorCode,
    /** The HTTP status (0 when the server was not reached). */
    readonly status: number,
    readonly details: {
      /** The input field the API named, when it named one. */
      field?: string;
      /** A finer reason, e.g. ADDRESS_REFUSED for a refused image URL. */
      reason?: string;
      /** Seconds to wait before retrying (RATE_LIMITED). */
      retryAfter?: number;
      /** Every error of the answer (the first is this one). */
      errors?: GraphQLErrorEntry[];
      cause?: unknown;
    } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
  }

  get field(): string | undefined {
    return this.details.field;
  }

  get reason(): string | undefined {
    return this.details.reason;
  }

  get retryAfter(): number | undefined {
    return this.details.retryAfter;
  }
}

/** The error an answer's first GraphQL error stands for. */
export function errorFromResponse(
  status: number,
  headers: Headers,
  errors: GraphQLErrorEntry[],
): LookalikeError {
  const first = errors[0] as GraphQLErrorEntry;
  const ext = first.extensions ?? {};
  const code =
    typeof ext.code === 'string'
      ? ext.code
      : status >= 500
        ? 'INTERNAL_SERVER_ERROR'
        : 'BAD_RESPONSE';
  const header = Number(headers.get('retry-after'));
  const retryAfter =
    typeof ext.retryAfter === 'number'
      ? ext.retryAfter
      : Number.isFinite(header) && header >= 0 && headers.has('retry-after')
        ? header
        : undefined;
  return new LookalikeError(first.message, code, status, {
    ...(typeof ext.field === 'string' ? { field: ext.field } : {}),
    ...(typeof ext.reason === 'string' ? { reason: ext.reason } : {}),
    ...(retryAfter !== undefined ? { retryAfter } : {}),
    errors,
  });
}
