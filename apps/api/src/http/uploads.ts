import type { FileUpload } from 'graphql-upload/processRequest.mjs';
import { apiError, badInput, ErrorCode } from '../errors.js';

/**
 * Read an uploaded file into memory, refusing more than `maxBytes` as soon as the stream passes
 * the limit (graphql-upload's own maxFileSize stops the stream one byte later, which lands here
 * as the same error).
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
    if (error instanceof Error && 'extensions' in error) throw error;
    const status = (error as { status?: number }).status;
    if (status === 413) throw tooLarge(field, maxBytes);
    throw badInput(`${field}: the upload was interrupted`, field);
  }
  if (total === 0) throw badInput(`${field} is empty (0 bytes)`, field);
  return Buffer.concat(chunks, total);
}

function tooLarge(field: string, maxBytes: number) {
  return apiError(
    ErrorCode.PAYLOAD_TOO_LARGE,
    `${field} is larger than the ${maxBytes}-byte limit`,
    {
      field,
      limit: maxBytes,
    },
  );
}
