/**
 * A minimal GraphQL client over real HTTP, with multipart uploads (the GraphQL multipart
 * request spec): an operation in, the whole response (status, headers, data, errors) out.
 */
export interface GraphQLResponse<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  data?: T | null;
  errors?: { message: string; path?: string[]; extensions?: Record<string, unknown> }[];
}

export interface UploadFile {
  bytes: Uint8Array;
  name?: string;
  type?: string;
}

export class GraphQLClient {
  constructor(
    readonly url: string,
    readonly key?: string,
  ) {}

  withKey(key: string | undefined): GraphQLClient {
    return new GraphQLClient(this.url, key);
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return { ...(this.key ? { authorization: `Bearer ${this.key}` } : {}), ...extra };
  }

  async query<T = Record<string, unknown>>(
    query: string,
    variables: Record<string, unknown> = {},
  ): Promise<GraphQLResponse<T>> {
    const res = await fetch(`${this.url}/graphql`, {
      method: 'POST',
      headers: this.headers({ 'content-type': 'application/json' }),
      body: JSON.stringify({ query, variables }),
    });
    return { status: res.status, headers: res.headers, ...((await res.json()) as object) };
  }

  /**
   * `files` maps a variable path ("image", "input.image") to a file; those variables are sent as
   * null and filled by the server from the multipart parts.
   */
  async upload<T = Record<string, unknown>>(
    query: string,
    variables: Record<string, unknown>,
    files: Record<string, UploadFile>,
    { preflight = true }: { preflight?: boolean } = {},
  ): Promise<GraphQLResponse<T>> {
    const form = new FormData();
    const vars = structuredClone(variables);
    for (const name of Object.keys(files)) vars[name] = null;
    form.append('operations', JSON.stringify({ query, variables: vars }));
    const entries = Object.entries(files);
    form.append(
      'map',
      JSON.stringify(
        Object.fromEntries(entries.map(([name], i) => [String(i), [`variables.${name}`]])),
      ),
    );
    entries.forEach(([, file], i) => {
      form.append(
        String(i),
        new Blob([Buffer.from(file.bytes)], { type: file.type ?? 'application/octet-stream' }),
        file.name ?? `file${i}`,
      );
    });
    const res = await fetch(`${this.url}/graphql`, {
      method: 'POST',
      // CSRF prevention: a multipart request must prove it is not a simple cross-site form post.
      headers: this.headers(preflight ? { 'apollo-require-preflight': 'true' } : {}),
      body: form,
    });
    const text = await res.text();
    let body: object;
    try {
      body = JSON.parse(text) as object;
    } catch {
      body = { errors: [{ message: text }] };
    }
    return { status: res.status, headers: res.headers, ...body };
  }
}
