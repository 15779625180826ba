import { CoreError, CoreErrorCode, toCoreError } from '@lookalike/core';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';

/**
 * The codes a client can rely on: the core's, and INTERNAL_SERVER_ERROR for everything else
 * (masked: logged whole, answered with a generic message).
 */
export const ErrorCode = {
  ...CoreErrorCode,
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

/** A CoreError as the GraphQL error a client gets: its code, its message, its details. */
export function fromCoreError(error: CoreError): GraphQLError {
  return apiError(error.code, error.message, error.details);
}

/** Any error as a client-facing GraphQL error; null when it must be masked. */
export function toApiError(error: unknown): GraphQLError | null {
  if (error instanceof GraphQLError && typeof error.extensions.code === 'string') {
    return error.extensions.code === ErrorCode.INTERNAL_SERVER_ERROR ? null : error;
  }
  const known = toCoreError(error);
  return known ? fromCoreError(known) : null;
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
 * Apollo's formatError: the one error mapping of the API. Known errors pass with their code;
 * anything else is logged whole and replaced by a generic message (like envelop's
 * useMaskedErrors).
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
