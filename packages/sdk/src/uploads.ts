import { openAsBlob } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { LookalikeError } from './errors.js';

/**
 * A file to upload: a path on disk, an http(s) URL (fetched by the SDK), bytes, a Blob or File,
 * or a Node or web stream.
 */
export type FileInput =
  | string
  | URL
  | Uint8Array
  | ArrayBuffer
  | Blob
  | NodeJS.ReadableStream
  | ReadableStream<Uint8Array>;

export interface FileOptions {
  /** The file name sent with the part (default: the path's or URL's base name, else "upload"). */
  name?: string;
  /** The content type sent with the part (the API sniffs the bytes either way). */
  type?: string;
  /** Most bytes read from a URL or a stream (default 100 MiB). */
  maxBytes?: number;
  /** fetch for URLs (default: the global one). */
  fetch?: typeof fetch;
}

const DEFAULT_MAX_BYTES = 100 * 1024 * 1024;

/** The URL an input names, when it is a URL or an http(s) string. */
function urlOf(input: FileInput): URL | null {
  if (input instanceof URL) return input;
  return typeof input === 'string' && /^https?:\/\//i.test(input) ? new URL(input) : null;
}

async function collect(stream: AsyncIterable<unknown>, maxBytes: number): Promise<Uint8Array[]> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const bytes =
      typeof chunk === 'string' ? Buffer.from(chunk) : new Uint8Array(chunk as ArrayBufferLike);
    size += bytes.byteLength;
    if (size > maxBytes)
      throw new LookalikeError(`The file is larger than ${maxBytes} bytes`, 'PAYLOAD_TOO_LARGE', 0);
    chunks.push(bytes);
  }
  return chunks;
}

/** Any FileInput as a File, ready to be a variable of an operation. */
export async function toFile(input: FileInput, options: FileOptions = {}): Promise<File> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const type = options.type ?? '';
  if (input instanceof File && options.name === undefined && options.type === undefined)
    return input;
  if (input instanceof Blob)
    return new File([input], options.name ?? 'upload', { type: type || input.type });
  const url = urlOf(input);
  if (url) {
    let res: Response;
    try {
      res = await (options.fetch ?? fetch)(url);
    } catch (cause) {
      throw new LookalikeError(`Could not fetch ${url.href}`, 'API_UNREACHABLE', 0, { cause });
    }
    if (!res.ok || !res.body)
      throw new LookalikeError(
        `Fetching ${url.href} answered ${res.status}`,
        'BAD_USER_INPUT',
        res.status,
      );
    const chunks = await collect(Readable.fromWeb(res.body as never), maxBytes);
    return new File(chunks, options.name ?? (path.posix.basename(url.pathname) || 'upload'), {
      type: type || (res.headers.get('content-type') ?? ''),
    });
  }
  if (typeof input === 'string') {
    let info;
    try {
      info = await stat(input);
    } catch {
      throw new LookalikeError(`No such file: ${input}`, 'BAD_USER_INPUT', 0);
    }
    if (!info.isFile()) throw new LookalikeError(`Not a file: ${input}`, 'BAD_USER_INPUT', 0);
    const blob = await openAsBlob(input, { type });
    return new File([blob], options.name ?? path.basename(input), { type });
  }
  if (input instanceof Uint8Array || input instanceof ArrayBuffer)
    return new File([input as Uint8Array<ArrayBuffer>], options.name ?? 'upload', { type });
  const iterable =
    input instanceof ReadableStream
      ? Readable.fromWeb(input as never)
      : (input as AsyncIterable<unknown>);
  return new File(await collect(iterable, maxBytes), options.name ?? 'upload', { type });
}
