import { CoreError, CoreErrorCode, badInput } from '@lookalike/core';
import type { FileUpload } from 'graphql-upload/processRequest.mjs';

/**
 * Read an uploaded file into memory, refusing more than `maxBytes` as soon as the stream passes
 * the limit (graphql-upload's own maxFileSize stops the stream one byte later, which lands here
 * as the same error). The core takes bytes: this is where a stream becomes them.
 */
export async function readUpload(
  upload: Promise<FileUpload>,
  maxBytes: number,
  field = 'image',
): Promise<Buffer> {
  let file: FileUpload;
  try {
    file = await upload;
  } catch (error) {
    throw badInput(
      `${field}: ${error instanceof Error ? error.message : 'the upload could not be read'}`,
      field,
    );
  }
  if (typeof file.createReadStream !== 'function') {
    throw badInput(`${field} must be a file sent as a multipart upload`, field);
  }
  const stream = file.createReadStream();
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of stream) {
      const buffer = chunk as Buffer;
      total += buffer.length;
      if (total > maxBytes) {
        stream.destroy();
        throw tooLarge(field, maxBytes);
      }
      chunks.push(buffer);
    }
  } catch (error) {
    if (error instanceof CoreError) throw error;
    const status = (error as { status?: number }).status;
    if (status === 413) throw tooLarge(field, maxBytes);
    throw badInput(`${field}: the upload was interrupted`, field);
  }
  if (total === 0) throw badInput(`${field} is empty (0 bytes)`, field);
  return Buffer.concat(chunks, total);
}

function tooLarge(field: string, maxBytes: number) {
  return new CoreError(
    CoreErrorCode.PAYLOAD_TOO_LARGE,
    `${field} is larger than the ${maxBytes}-byte limit`,
    { field, limit: maxBytes },
  );
}

/** How resolvers read an upload: the stream into bytes, under the configured limit. */
export type UploadReader = (upload: Promise<FileUpload>, field: string) => Promise<Buffer>;

export function uploadReader(maxBytes: number): UploadReader {
  return (upload, field) => readUpload(upload, maxBytes, field);
}
