import { ConflictError, DbError, InvalidArgumentError, NotFoundError } from '@lookalike/db';
import {
  BusyError,
  CorruptImageError,
  ImageTooLargeError,
  InferenceError,
  InvalidRegionError,
  UnsupportedImageError,
} from '@lookalike/inference';
import { SearchInputError } from '@lookalike/search';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';

/** The codes a client can rely on (STYLE.md §7). Anything else is masked. */
export const ErrorCode = {
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  CONFLICT: 'CONFLICT',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  UNSUPPORTED_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  RATE_LIMITED: 'RATE_LIMITED',
  SERVICE_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const HTTP_STATUS: Partial<Record<ErrorCode, number>> = {
  UNAUTHENTICATED: 401,
  RATE_LIMITED: 429,
  SERVICE_UNAVAILABLE: 503,
};

export function apiError(
  code: ErrorCode,
  message: string,
  extensions: Record<string, unknown> = {},
): GraphQLError {
  const status = HTTP_STATUS[code];
  return new GraphQLError(message, {
    extensions: { code, ...(status ? { http: { status } } : {}), ...extensions },
  });
}

export const badInput = (message: string, field?: string) =>
  apiError(ErrorCode.BAD_USER_INPUT, message, field ? { field } : {});
export const notFound = (what: string) => apiError(ErrorCode.NOT_FOUND, `${what} not found`);

/** Map the typed errors of the packages below to client-facing codes; null when unknown. */
export function toApiError(error: unknown): GraphQLError | null {
  if (error instanceof GraphQLError && typeof error.extensions.code === 'string') {
    return error.extensions.code === ErrorCode.INTERNAL_SERVER_ERROR ? null : error;
  }
  if (error instanceof UnsupportedImageError) {
    return apiError(ErrorCode.UNSUPPORTED_MEDIA_TYPE, error.message, { mime: error.mime });
  }
  if (error instanceof ImageTooLargeError) {
    return apiError(ErrorCode.PAYLOAD_TOO_LARGE, error.message, {
      limit: error.limit,
      unit: error.unit,
    });
  }
  if (error instanceof CorruptImageError || error instanceof InvalidRegionError) {
    return badInput(error.message);
  }
  if (error instanceof BusyError) {
    return apiError(ErrorCode.SERVICE_UNAVAILABLE, error.message, { retryAfter: 1 });
  }
  if (error instanceof InvalidArgumentError) return badInput(error.message);
  if (error instanceof NotFoundError) return apiError(ErrorCode.NOT_FOUND, error.message);
  if (error instanceof ConflictError) return apiError(ErrorCode.CONFLICT, error.message);
  if (error instanceof SearchInputError) return badInput(error.message, error.field);
  if (error instanceof DbError || error instanceof InferenceError) return null;
  return null;
}

const APOLLO_CLIENT_CODES = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
  'BAD_REQUEST',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
]);

/**
 * Apollo's formatError: known errors pass with their code; anything else is logged whole and
 * replaced by a generic message (envelop's useMaskedErrors, STYLE.md §7).
 */
export function formatError(
  log: (message: string, error: unknown) => void,
): (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError {
  return (formatted, error) => {
    const original = error instanceof GraphQLError ? (error.originalError ?? error) : error;
    // Errors Apollo and graphql-js raise before execution (parse, validation, variable
    // coercion, introspection off) arrive with Apollo's own client-error codes.
    const code = formatted.extensions?.code;
    if (typeof code === 'string' && APOLLO_CLIENT_CODES.has(code)) return formatted;
    const known = toApiError(original);
    if (known) {
      const extensions = { ...known.extensions };
      delete extensions.http;
      return {
        message: known.message,
        path: formatted.path,
        locations: formatted.locations,
        extensions,
      };
    }
    log('unexpected error', original);
    return {
      message: 'Internal server error',
      path: formatted.path,
      extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR },
    };
  };
}
