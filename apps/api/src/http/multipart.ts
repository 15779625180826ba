import { Readable } from 'node:stream';
import busboy from 'busboy';
import type { RequestHandler } from 'express';
import Upload from 'graphql-upload/Upload.mjs';

export interface MultipartLimits {
  /** Largest file, bytes: a larger one reaches its resolver as a 413 stream error. */
  maxFileSize: number;
  maxFiles: number;
  /** Largest `operations` / `map` field, bytes. */
  maxFieldSize: number;
}

/** An HTTP error the error handler answers with its status (like http-errors). */
function httpError(
  status: number,
  message: string,
  field?: string,
): Error & { status: number; expose: true; field?: string } {
  return Object.assign(new Error(message), {
    status,
    expose: true as const,
    ...(field ? { field } : {}),
  });
}

/** The variable a map path names (`variables.input.image` -> `input.image`), for errors. */
function variableOf(path: string | undefined): string | undefined {
  return path?.replace(/^variables\./, '');
}

function setPath(target: unknown, path: string, value: unknown): boolean {
  const keys = path.split('.');
  let node = target as Record<string, unknown> | undefined;
  for (const key of keys.slice(0, -1)) {
    if (key === '__proto__' || key === 'constructor' || key === 'prototype') return false;
    const next = node?.[key];
    if (typeof next !== 'object' || next === null) return false;
    node = next as Record<string, unknown>;
  }
  const last = keys.at(-1) as string;
  if (!node || !(last in node) || last === '__proto__') return false;
  node[last] = value;
  return true;
}

/**
 * GraphQL multipart requests (the GraphQL multipart request spec: an `operations` field, a
 * `map` field, then the files), read into memory: a file is at most `maxFileSize` bytes, and the
 * resolvers take bytes anyway. Unlike a temp-file buffer, nothing is ever written to disk, so
 * nothing can be left behind. Each mapped variable gets an Upload (graphql-upload's, which its
 * GraphQLUpload scalar accepts) resolved once the body has been read.
 */
export function multipartUploads(limits: MultipartLimits): RequestHandler {
  return (req, _res, next) => {
    if (!req.is('multipart/form-data')) {
      next();
      return;
    }
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: req.headers,
        defParamCharset: 'utf8',
        limits: {
          fieldSize: limits.maxFieldSize,
          fields: 2,
          fileSize: limits.maxFileSize,
          files: limits.maxFiles,
        },
      });
    } catch (error) {
      next(httpError(400, error instanceof Error ? error.message : 'Invalid multipart request.'));
      return;
    }
    let operations: unknown;
    let map: Map<string, string[]> | undefined;
    const files = new Map<
      string,
      { filename: string; mimetype: string; encoding: string; bytes: Buffer; truncated: boolean }
    >();
    let failed = false;
    const fail = (error: Error) => {
      if (failed) return;
      failed = true;
      req.unpipe(parser);
      req.resume(); // drain what the client still sends; nothing more is kept
      next(error);
    };

    parser.on('field', (name, value, info) => {
      if (info.valueTruncated) {
        fail(
          httpError(
            413,
            `The ‘${name}’ multipart field value exceeds the ${limits.maxFieldSize} byte size limit.`,
          ),
        );
        return;
      }
      if (name === 'operations') {
        try {
          operations = JSON.parse(value) as unknown;
        } catch {
          fail(httpError(400, 'Invalid JSON in the ‘operations’ multipart field.'));
        }
        if (typeof operations !== 'object' || operations === null) {
          fail(httpError(400, 'Invalid type for the ‘operations’ multipart field.'));
        }
      } else if (name === 'map') {
        if (operations === undefined) {
          fail(httpError(400, 'Misordered multipart fields; ‘map’ should follow ‘operations’.'));
          return;
        }
        let parsed: unknown;
        try {
          parsed = JSON.parse(value) as unknown;
        } catch {
          fail(httpError(400, 'Invalid JSON in the ‘map’ multipart field.'));
          return;
        }
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
          fail(httpError(400, 'Invalid type for the ‘map’ multipart field.'));
          return;
        }
        const entries = Object.entries(parsed as Record<string, unknown>);
        if (entries.length > limits.maxFiles) {
          fail(httpError(413, `${limits.maxFiles} max file uploads exceeded.`));
          return;
        }
        map = new Map();
        for (const [field, paths] of entries) {
          if (!Array.isArray(paths) || !paths.every((p) => typeof p === 'string')) {
            fail(
              httpError(
                400,
                `Invalid object paths for the ‘map’ multipart field entry key ‘${field}’.`,
              ),
            );
            return;
          }
          map.set(field, paths);
        }
      }
    });

    parser.on('file', (name, stream, info) => {
      if (!map?.has(name) || files.has(name)) {
        // Not mapped (or sent twice): read past it, keep nothing.
        stream.resume();
        return;
      }
      const chunks: Buffer[] = [];
      const entry = {
        filename: info.filename,
        mimetype: info.mimeType,
        encoding: info.encoding,
        bytes: Buffer.alloc(0),
        truncated: false,
      };
      files.set(name, entry);
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('limit', () => {
        entry.truncated = true;
        chunks.length = 0;
      });
      stream.on('end', () => {
        entry.bytes = entry.truncated ? Buffer.alloc(0) : Buffer.concat(chunks);
      });
    });

    parser.on('filesLimit', () => {
      fail(httpError(413, `${limits.maxFiles} max file uploads exceeded.`));
    });
    parser.on('fieldsLimit', () => {
      fail(httpError(400, 'Too many multipart fields.'));
    });
    parser.on('error', (error: Error) => {
      fail(httpError(400, error.message));
    });
    req.on('error', () => {
      fail(httpError(400, 'Request disconnected during file upload stream parsing.'));
    });

    parser.on('close', () => {
      if (failed) return;
      if (operations === undefined) {
        fail(httpError(400, 'Missing multipart field ‘operations’.'));
        return;
      }
      if (!map) {
        fail(httpError(400, 'Missing multipart field ‘map’.'));
        return;
      }
      for (const [field, paths] of map) {
        const file = files.get(field);
        // A map entry whose file never came is the request's fault, refused before anything
        // runs (an Upload rejected instead reaches its resolver as an unexpected error).
        if (!file) {
          fail(
            httpError(
              400,
              `The ‘map’ multipart field names file ‘${field}’ (${paths.join(', ')}), which the request does not send.`,
              variableOf(paths[0]),
            ),
          );
          return;
        }
        const upload = new Upload();
        const { filename, mimetype, encoding, bytes, truncated } = file;
        upload.resolve({
          filename,
          mimetype,
          encoding,
          createReadStream: () => {
            if (!truncated) return Readable.from([bytes]);
            const stream = new Readable({ read() {} });
            process.nextTick(() =>
              stream.destroy(
                httpError(
                  413,
                  `File truncated as it exceeds the ${limits.maxFileSize} byte size limit.`,
                ),
              ),
            );
            return stream;
          },
        });
        for (const path of paths) {
          if (!setPath(operations, path, upload)) {
            fail(
              httpError(
                400,
                `Invalid object path for the ‘map’ multipart field entry key ‘${field}’ array index ‘${paths.indexOf(path)}’ value ‘${path}’.`,
              ),
            );
            return;
          }
        }
      }
      req.body = operations;
      next();
    });
    req.pipe(parser);
  };
}
