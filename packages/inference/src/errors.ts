/**
 * Typed failures of @lookalike/inference. Every error carries a stable `code` so callers (the
 * GraphQL API) can map it to their own error codes without parsing messages, and a message that
 * names the model it concerns where there is one.
 */
export class InferenceError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** The bytes are not an image type the embedder accepts (sniffed from magic bytes, not trusted
 * from a file name or Content-Type). API: UNSUPPORTED_MEDIA_TYPE. */
export class UnsupportedImageError extends InferenceError {
  /** The sniffed MIME type, or null when the bytes match no known image format. */
  readonly mime: string | null;

  constructor(message: string, mime: string | null, options?: ErrorOptions) {
    super('UNSUPPORTED_IMAGE', message, options);
    this.mime = mime;
  }
}

/** The bytes claim to be an image but cannot be decoded: empty, truncated, damaged. API: BAD_USER_INPUT. */
export class CorruptImageError extends InferenceError {
  constructor(message: string, options?: ErrorOptions) {
    super('CORRUPT_IMAGE', message, options);
  }
}

/** Too many bytes, or too many pixels (checked from the header, before decoding). API: PAYLOAD_TOO_LARGE. */
export class ImageTooLargeError extends InferenceError {
  readonly limit: number;
  readonly actual: number;
  readonly unit: 'bytes' | 'pixels';

  constructor(
    message: string,
    details: { limit: number; actual: number; unit: 'bytes' | 'pixels' },
  ) {
    super('IMAGE_TOO_LARGE', message);
    this.limit = details.limit;
    this.actual = details.actual;
    this.unit = details.unit;
  }
}

/** A crop region that lies outside the image or is empty. API: BAD_USER_INPUT. */
export class InvalidRegionError extends InferenceError {
  constructor(message: string) {
    super('INVALID_REGION', message);
  }
}

/** The queue is full: retry later. API: a retryable error (e.g. RATE_LIMITED / 503). */
export class BusyError extends InferenceError {
  constructor(message: string) {
    super('BUSY', message);
  }
}

/** The embedder was closed before (or while) the request ran. */
export class EmbedderClosedError extends InferenceError {
  constructor(message: string) {
    super('CLOSED', message);
  }
}

/** The detector was closed before (or while) the request ran. An EmbedderClosedError too, so
 * that callers mapping "closed" for the embedder map it for the detector alike. */
export class DetectorClosedError extends EmbedderClosedError {}

/** A manifest or model file is invalid: bad JSON, hash mismatch, wrong output dims, ... */
export class ModelError extends InferenceError {
  constructor(message: string, options?: ErrorOptions) {
    super('MODEL_INVALID', message, options);
  }
}

/** `device: 'cuda'` was requested and the CUDA execution provider cannot be used. */
export class DeviceUnavailableError extends InferenceError {
  constructor(message: string, options?: ErrorOptions) {
    super('DEVICE_UNAVAILABLE', message, options);
  }
}
