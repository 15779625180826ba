/** Base class of the errors @lookalike/db throws on purpose; `code` is stable for callers. */
export class DbError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A caller passed a value the database layer refuses before any query runs. */
export class InvalidArgumentError extends DbError {
  constructor(message: string) {
    super('INVALID_ARGUMENT', message);
  }
}

/** The row does not exist for this merchant (rows of other merchants look the same). */
export class NotFoundError extends DbError {
  constructor(what: string) {
    super('NOT_FOUND', `${what} not found`);
  }
}

/** A unique constraint would be violated (e.g. a second product with the same externalId). */
export class ConflictError extends DbError {
  constructor(message: string) {
    super('CONFLICT', message);
  }
}

/** Another process holds the embedded database's data directory (`advice`: what to do). */
export class DataDirLockedError extends DbError {
  constructor(
    dataDir: string,
    holder: string,
    advice = 'Stop the other process, use another DATA_DIR, or set DATABASE_URL to a native Postgres.',
  ) {
    super(
      'DATA_DIR_LOCKED',
      `The embedded database in ${dataDir} is in use by another process (${holder}). ` +
        `PGlite has no lock between processes, so a second writer would silently lose data. ` +
        advice,
    );
  }
}

export class MigrationError extends DbError {
  constructor(message: string, options?: ErrorOptions) {
    super('MIGRATION_FAILED', message, options);
  }
}
