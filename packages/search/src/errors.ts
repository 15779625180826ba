/**
 * A value broke one of this package's documented preconditions.
 *
 * `field` names the offending input (`matchThreshold`, `b`, `queries[2].results[0].score`) and the
 * message is a whole sentence that already names it, so the API can pass it on unchanged. Whether
 * that is the user's fault is the caller's call: a threshold from a GraphQL argument becomes a
 * BAD_USER_INPUT error; a NaN read from our own database is a bug and is masked like one.
 */
export class SearchInputError extends Error {
  override readonly name = 'SearchInputError';
  readonly field: string;

  constructor(field: string, message: string) {
    super(message);
    this.field = field;
  }
}

/** A problem found by a `validate*` function, for callers that report rather than throw. */
export interface InputProblem {
  readonly field: string;
  readonly message: string;
}

/** Formats a bad value for an error message: NaN and Infinity as such, strings quoted. */
export function show(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}
