import 'server-only';

/** An error the API answered with (its `extensions.code`), or API_UNREACHABLE. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly status: number,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

interface Envelope<T> {
  data?: T | null;
  errors?: { message: string; extensions?: { code?: string; field?: string } }[];
}

export interface UploadPart {
  /** The variable this file fills, e.g. "image". */
  variable: string;
  file: Blob;
  name: string;
}

/**
 * A GraphQL client for one API key, used only on the server: the key never reaches the browser.
 * Uploads follow the GraphQL multipart request spec, with the preflight header the API's CSRF
 * prevention requires.
 */
export class ApiClient {
  constructor(
    readonly baseUrl: string,
    private readonly key: string,
  ) {}

  async query<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    return this.send<T>({
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${this.key}` },
      body: JSON.stringify({ query, variables }),
    });
  }

  async upload<T>(
    query: string,
    variables: Record<string, unknown>,
    files: UploadPart[],
  ): Promise<T> {
    const form = new FormData();
    const vars: Record<string, unknown> = { ...variables };
    for (const f of files) vars[f.variable] = null;
    form.append('operations', JSON.stringify({ query, variables: vars }));
    form.append(
      'map',
      JSON.stringify(
        Object.fromEntries(files.map((f, i) => [String(i), [`variables.${f.variable}`]])),
      ),
    );
    files.forEach((f, i) => {
      form.append(String(i), f.file, f.name);
    });
    return this.send<T>({
      method: 'POST',
      headers: { authorization: `Bearer ${this.key}`, 'apollo-require-preflight': 'true' },
      body: form,
    });
  }

  private async send<T>(init: RequestInit): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}/graphql`, { ...init, cache: 'no-store' });
    } catch {
      throw new ApiError(
        `The Lookalike API at ${this.baseUrl} is not reachable. Is it running?`,
        'API_UNREACHABLE',
        503,
      );
    }
    const text = await res.text();
    let body: Envelope<T>;
    try {
      body = JSON.parse(text) as Envelope<T>;
    } catch {
      throw new ApiError(
        `The API answered ${res.status} without JSON`,
        res.status === 413 ? 'PAYLOAD_TOO_LARGE' : 'BAD_RESPONSE',
        res.status,
      );
    }
    const first = body.errors?.[0];
    if (first) {
      throw new ApiError(
        first.message,
        first.extensions?.code ?? 'INTERNAL_SERVER_ERROR',
        res.status,
        first.extensions?.field,
      );
    }
    if (body.data == null)
      throw new ApiError(`The API answered ${res.status} without data`, 'BAD_RESPONSE', res.status);
    return body.data;
  }
}

/** What an action or route hands the browser: the message and code, never a stack. */
export function describeError(error: unknown): { message: string; code: string; field?: string } {
  if (error instanceof ApiError)
    return {
      message: error.message,
      code: error.code,
      ...(error.field ? { field: error.field } : {}),
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
