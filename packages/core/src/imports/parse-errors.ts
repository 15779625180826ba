/**
 * Why a whole import file is refused. A bad row never throws: it becomes a row with an error,
 * so the merchant sees every problem of the file at once. These are the problems that leave
 * nothing to read row by row (or that we refuse to read at all).
 */
export type ImportFileErrorCode =
  | 'TOO_LARGE'
  | 'TOO_MANY_ROWS'
  | 'BAD_FORMAT'
  | 'MISSING_COLUMNS'
  | 'ZIP_NO_CATALOG'
  | 'ZIP_UNSAFE_PATH'
  | 'ZIP_BOMB'
  | 'ZIP_TOO_MANY_ENTRIES';

/**
 * A file-level import failure. The door maps it to a CoreError: TOO_LARGE, TOO_MANY_ROWS,
 * ZIP_BOMB and ZIP_TOO_MANY_ENTRIES to PAYLOAD_TOO_LARGE, the rest to BAD_USER_INPUT; `details`
 * carries the limit or the entry at fault for the client.
 */
export class ImportFileError extends Error {
  constructor(
    readonly code: ImportFileErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'ImportFileError';
  }
}
