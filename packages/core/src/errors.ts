import { ConflictError, InvalidArgumentError, NotFoundError } from '@lookalike/db';
import {
  BusyError,
  CorruptImageError,
  ImageTooLargeError,
  InvalidRegionError,
  UnsupportedImageError,
} from '@lookalike/inference';
import { SearchInputError } from '@lookalike/search';
import { FetchError } from './fetch/safe-fetch.js';

/**
 * What went wrong, in words a client can act on. Every door maps these one to one (the API to
 * GraphQL `extensions.code`, a CLI to an exit message); anything that is not a CoreError is a
 * bug or an outage, logged whole and masked.
 */
export const CoreErrorCode = {
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  CONFLICT: 'CONFLICT',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  UNSUPPORTED_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  RATE_LIMITED: 'RATE_LIMITED',
  SERVICE_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
} as const;
export type CoreErrorCode = (typeof CoreErrorCode)[keyof typeof CoreErrorCode];

/** Extra facts a client may use: the field at fault, a limit, when to retry. */
export type CoreErrorDetails = Record<string, unknown> & { field?: string };

export class CoreError extends Error {
  constructor(
    readonly code: CoreErrorCode,
    message: string,
    readonly details: CoreErrorDetails = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'CoreError';
  }
}

export const badInput = (message: string, field?: string) =>
  new CoreError(CoreErrorCode.BAD_USER_INPUT, message, field ? { field } : {});

export const notFound = (what: string) =>
  new CoreError(CoreErrorCode.NOT_FOUND, `${what} not found`);

export const conflict = (message: string, details: CoreErrorDetails = {}) =>
  new CoreError(CoreErrorCode.CONFLICT, message, details);

export const unavailable = (message: string, details: CoreErrorDetails = {}) =>
  new CoreError(CoreErrorCode.SERVICE_UNAVAILABLE, message, details);

/**
 * The expected failures of the packages below, as CoreErrors; null for anything else (a bug,
 * the database down, a model that cannot run): those stay what they are.
 */
export function toCoreError(error: unknown): CoreError | null {
  if (error instanceof CoreError) return error;
  if (error instanceof UnsupportedImageError) {
    return new CoreError(CoreErrorCode.UNSUPPORTED_MEDIA_TYPE, error.message, { mime: error.mime });
  }
  if (error instanceof ImageTooLargeError) {
    return new CoreError(CoreErrorCode.PAYLOAD_TOO_LARGE, error.message, {
      limit: error.limit,
      unit: error.unit,
    });
  }
  if (error instanceof CorruptImageError || error instanceof InvalidRegionError) {
    return badInput(error.message);
  }
  if (error instanceof BusyError) return unavailable(error.message, { retryAfter: 1 });
  if (error instanceof InvalidArgumentError) return badInput(error.message);
  if (error instanceof NotFoundError) return new CoreError(CoreErrorCode.NOT_FOUND, error.message);
  if (error instanceof ConflictError) return conflict(error.message);
  if (error instanceof SearchInputError) return badInput(error.message, error.field);
  if (error instanceof FetchError) {
    // A URL a client gave that could not be fetched: the URL's fault (refused, unreachable,
    // not an image), never a 500. `reason` tells which.
    const code =
      error.code === 'TOO_LARGE'
        ? CoreErrorCode.PAYLOAD_TOO_LARGE
        : error.code === 'NOT_AN_IMAGE'
          ? CoreErrorCode.UNSUPPORTED_MEDIA_TYPE
          : CoreErrorCode.BAD_USER_INPUT;
    return new CoreError(code, `imageUrl: ${error.reason}`, {
      field: 'imageUrl',
      reason: error.code,
    });
  }
  return null;
}

/**
 * A service whose every method throws CoreErrors for expected failures: errors of the packages
 * below are translated on the way out, once, here, so no service method has to.
 */
export function withCodedErrors<T extends object>(service: T): T {
  const translate = (error: unknown): never => {
    throw toCoreError(error) ?? error;
  };
  return new Proxy(service, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function' || prop === 'constructor') return value;
      return (...args: unknown[]) => {
        try {
          const result = (value as (...a: unknown[]) => unknown).apply(target, args);
          return result instanceof Promise ? result.catch(translate) : result;
        } catch (error) {
          return translate(error);
        }
      };
    },
  });
}
