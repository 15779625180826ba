import { InvalidArgumentError } from '../errors.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Ids are UUIDs; anything else can never match a row, so callers get "not found" semantics. */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}

export function assertUuid(value: string, what: string): void {
  if (!isUuid(value)) throw new InvalidArgumentError(`${what} must be a UUID, got "${value}"`);
}

export function assertText(
  value: string,
  what: string,
  { min = 0, max }: { min?: number; max: number },
): void {
  if (value.length < min || value.length > max) {
    throw new InvalidArgumentError(
      min > 0
        ? `${what} must be ${min}–${max} characters (got ${value.length})`
        : `${what} must be at most ${max} characters (got ${value.length})`,
    );
  }
}

export function assertInt(value: number, what: string, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(`${what} must be an integer in [${min}, ${max}], got ${value}`);
  }
}

export function assertFinite(value: number, what: string): void {
  if (!Number.isFinite(value)) throw new InvalidArgumentError(`${what} must be a finite number`);
}
