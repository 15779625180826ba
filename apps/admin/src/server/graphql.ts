import 'server-only';
import {
  createClient,
  LookalikeError,
  type LookalikeClient,
  type TypedDocumentString,
} from '@lookalike/sdk';

/** An error the API answered with (its `extensions.code`), or API_UNREACHABLE. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly status: number,
    readonly field?: string,
    /** A finer reason the API gave (`extensions.reason`, e.g. MISSING_COLUMNS for a bad file). */
    readonly reason?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The SDK's error as the dashboard's: the same message, code, status, field and reason. */
function toApiError(error: unknown): unknown {
  if (!(error instanceof LookalikeError)) return error;
  // A proxy's 413 page (not GraphQL) still says what happened.
  const code =
    error.code === 'BAD_RESPONSE' && error.status === 413 ? 'PAYLOAD_TOO_LARGE' : error.code;
  return new ApiError(error.message, code, error.status, error.field, error.reason);
}

/** What a document needs besides itself: its variables, optional when it has none required. */
type VariablesOf<TVariables> =
  TVariables extends Record<string, never> ? [variables?: TVariables] : [variables: TVariables];

/**
 * The API for one key, used only on the server: the key never reaches the browser. A thin
 * wrapper over the SDK's client: typed documents (@lookalike/sdk's generated ones), Blob and
 * File variables sent as multipart uploads by the SDK, no retries (a page shows the API's
 * answer at once), and the SDK's LookalikeError turned into ApiError. (Next.js caches no
 * fetch by default, and every dashboard page is dynamic: each shows the API's answer now.)
 */
export class ApiClient {
  private readonly client: LookalikeClient;

  constructor(
    readonly baseUrl: string,
    key: string,
  ) {
    this.client = createClient({
      url: baseUrl,
      apiKey: key,
      retry: { attempts: 1 },
    });
  }

  /** Send one operation: its data, or an ApiError. */
  async request<TResult, TVariables>(
    document: TypedDocumentString<TResult, TVariables>,
    ...[variables]: VariablesOf<TVariables>
  ): Promise<TResult> {
    try {
      return await this.client.request<TResult, Record<string, unknown>>(
        document as TypedDocumentString<TResult, Record<string, unknown>>,
        variables ?? {},
      );
    } catch (error) {
      throw toApiError(error);
    }
  }
}

/** A file as an upload variable: with a name (the API's multipart parser wants one). */
export function namedFile(file: File, fallback: string): File {
  return file.name ? file : new File([file], fallback, { type: file.type });
}

/** What an action or route hands the browser: the message and code, never a stack. */
export function describeError(error: unknown): {
  message: string;
  code: string;
  field?: string;
  reason?: string;
} {
  if (error instanceof ApiError)
    return {
      message: error.message,
      code: error.code,
      ...(error.field ? { field: error.field } : {}),
      ...(error.reason ? { reason: error.reason } : {}),
    };
  console.error('[admin] unexpected error', error);
  return {
    message: 'Something went wrong on the dashboard server; see its log.',
    code: 'INTERNAL_SERVER_ERROR',
  };
}

/** A failed action's answer: describeError's message, code and (when the API named one) field. */
export function actionFailure(error: unknown): {
  ok: false;
  error: string;
  code: string;
  field?: string;
} {
  const e = describeError(error);
  return { ok: false, error: e.message, code: e.code, ...(e.field ? { field: e.field } : {}) };
}
