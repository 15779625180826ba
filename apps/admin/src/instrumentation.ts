import { env } from './env';

/** Runs once when the server starts: a bad environment stops it with the variable's name. */
export function register(): void {
  env();
}
