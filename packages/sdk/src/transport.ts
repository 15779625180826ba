/**
 * The wire: GraphQL over HTTP, JSON for plain operations and the GraphQL multipart request spec
 * when a variable holds a file. Every Blob (File included) found in the variables becomes a part;
 * its place in the variables is sent as null and filled by the server from the map.
 */
import { LookalikeError } from './errors.js';

export interface GraphQLErrorEntry {
  message: string;
  path?: (string | number)[];
  extensions?: Record<string, unknown>;
}

/** One HTTP answer: its status and headers, and the GraphQL body. */
export interface GraphQLResponse<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  data?: T | null;
  errors?: GraphQLErrorEntry[];
}

/** An encoded request body with the headers it needs. */
export interface EncodedRequest {
  body: string | FormData;
  headers: Record<string, string>;
}

type Path = (string | number)[];

/**
 * The deepest value the SDK encodes. Nothing the API accepts comes near it (its documents nest at
 * most 32 levels, labels 5), and JSON.stringify overflows the stack a few thousand levels down:
 * deeper variables are refused here, with their path, instead of a RangeError.
 */
export const MAX_VARIABLE_DEPTH = 64;

function isBlob(value: unknown): value is Blob {
  return typeof Blob !== 'undefined' && value instanceof Blob;
}

/** Arrays and plain objects are walked; anything else (a Date, a Map) goes as JSON sends it. */
function isContainer(value: unknown): value is unknown[] | Record<string, unknown> {
  if (Array.isArray(value)) return true;
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

function refused(message: string, path: Path): LookalikeError {
  const field = ['variables', ...path].join('.');
  return new LookalikeError(`${message} at ${field}`, 'BAD_USER_INPUT', 0, { field });
}

/**
 * The variables with every Blob replaced by null, and where each Blob was. Refuses (as
 * BAD_USER_INPUT, before anything is sent) variables deeper than MAX_VARIABLE_DEPTH and
 * variables that contain themselves.
 */
export function extractFiles(variables: Record<string, unknown>): {
  variables: Record<string, unknown>;
  files: { path: Path; file: Blob }[];
} {
  const files: { path: Path; file: Blob }[] = [];
  const ancestors = new Set<object>();
  const walk = (value: unknown, path: Path): unknown => {
    if (isBlob(value)) {
      files.push({ path, file: value });
      return null;
    }
    if (!isContainer(value)) return value;
    if (ancestors.has(value)) throw refused('The variables contain themselves', path);
    if (path.length >= MAX_VARIABLE_DEPTH) {
      throw refused(`The variables nest deeper than ${MAX_VARIABLE_DEPTH} levels`, path);
    }
    ancestors.add(value);
    const copy = Array.isArray(value)
      ? value.map((v, i) => walk(v, [...path, i]))
      : Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v, [...path, k])]));
    ancestors.delete(value);
    return copy;
  };
  return { variables: walk(variables, []) as Record<string, unknown>, files };
}

/**
 * Encode one operation. With files, a multipart form (operations, map, then the files in
 * order) and the preflight header the API's CSRF prevention asks of multipart requests.
 */
export function encodeRequest(
  query: string,
  variables: Record<string, unknown> = {},
  { preflight = true }: { preflight?: boolean } = {},
): EncodedRequest {
  const extracted = extractFiles(variables);
  if (extracted.files.length === 0) {
    return {
      body: JSON.stringify({ query, variables }),
      headers: { 'content-type': 'application/json' },
    };
  }
  const form = new FormData();
  form.append('operations', JSON.stringify({ query, variables: extracted.variables }));
  form.append(
    'map',
    JSON.stringify(
      Object.fromEntries(
        extracted.files.map(({ path }, i) => [String(i), [['variables', ...path].join('.')]]),
      ),
    ),
  );
  extracted.files.forEach(({ file }, i) => {
    form.append(String(i), file, file instanceof File ? file.name : `file${i}`);
  });
  return { body: form, headers: preflight ? { 'apollo-require-preflight': 'true' } : {} };
}

/**
 * The bytes of an encoded request, with its content type: for load generators that send the
 * same request many times without encoding it again.
 */
export async function encodeRequestBytes(
  query: string,
  variables: Record<string, unknown> = {},
): Promise<{ body: Uint8Array; headers: Record<string, string> }> {
  const encoded = encodeRequest(query, variables);
  const res = new Response(encoded.body);
  const type = res.headers.get('content-type');
  return {
    body: new Uint8Array(await res.arrayBuffer()),
    headers: { ...encoded.headers, ...(type ? { 'content-type': type } : {}) },
  };
}

/** Parse an answer's body: JSON, or the text as one error when it is not JSON. */
export async function readResponse<T>(res: Response): Promise<GraphQLResponse<T>> {
  const text = await res.text();
  let body: { data?: T | null; errors?: GraphQLErrorEntry[] };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    body = { errors: [{ message: text || `HTTP ${res.status} without a body` }] };
  }
  return { status: res.status, headers: res.headers, ...body };
}

export interface UploadFile {
  bytes: Uint8Array;
  name?: string;
  type?: string;
}

/**
 * The untyped client: any query string in, the whole answer (status, headers, data, errors) out,
 * errors included. For tests and tools that look at the answer itself; applications use
 * LookalikeClient, which is typed and throws LookalikeError.
 */
export class GraphQLClient {
  constructor(
    readonly url: string,
    readonly key?: string,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  withKey(key: string | undefined): GraphQLClient {
    return new GraphQLClient(this.url, key, this.fetchImpl);
  }

  /** Send one operation; Blob values in the variables go as multipart file parts. */
  async send<T = Record<string, unknown>>(
    query: string,
    variables: Record<string, unknown> = {},
    options: { preflight?: boolean; signal?: AbortSignal } = {},
  ): Promise<GraphQLResponse<T>> {
    const encoded = encodeRequest(query, variables, options);
    const res = await this.fetchImpl(`${this.url}/graphql`, {
      method: 'POST',
      headers: { ...(this.key ? { authorization: `Bearer ${this.key}` } : {}), ...encoded.headers },
      body: encoded.body,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    return readResponse<T>(res);
  }

  query<T = Record<string, unknown>>(
    query: string,
    variables: Record<string, unknown> = {},
  ): Promise<GraphQLResponse<T>> {
    return this.send<T>(query, variables);
  }

  /**
   * `files` maps a variable path ("image", "input.image") to a file's bytes; those variables
   * are sent as null and filled by the server from the multipart parts.
   */
  upload<T = Record<string, unknown>>(
    query: string,
    variables: Record<string, unknown>,
    files: Record<string, UploadFile>,
    options: { preflight?: boolean } = {},
  ): Promise<GraphQLResponse<T>> {
    const vars = structuredClone(variables);
    for (const [name, file] of Object.entries(files)) {
      setPath(
        vars,
        name.split('.'),
        new File([Buffer.from(file.bytes)], file.name ?? 'file', {
          type: file.type ?? 'application/octet-stream',
        }),
      );
    }
    return this.send<T>(query, vars, options);
  }
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node: Record<string, unknown> = target;
  path.slice(0, -1).forEach((key) => {
    const next = node[key];
    if (next === null || typeof next !== 'object') node[key] = {};
    node = node[key] as Record<string, unknown>;
  });
  node[path[path.length - 1] as string] = value;
}
