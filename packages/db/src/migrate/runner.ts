import { createHash, randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { SqlDriver, SqlSession } from '../driver.js';
import { MigrationError } from '../errors.js';

/** prisma/migrations at the repository root. */
export const defaultMigrationsDir = path.resolve(
  import.meta.dirname,
  '..',
  '..',
  '..',
  '..',
  'prisma',
  'migrations',
);

/**
 * The key Prisma Migrate itself takes with pg_advisory_lock, so this runner and
 * `prisma migrate deploy` exclude each other too.
 */
const ADVISORY_LOCK_KEY = 72707369;

export interface MigrationFile {
  /** Folder name, e.g. 20261128000000_init. */
  name: string;
  sql: string;
  /** sha256 of the file's bytes, hex: what Prisma stores in _prisma_migrations.checksum. */
  checksum: string;
}

export interface MigrateResult {
  applied: string[];
  alreadyApplied: string[];
}

export interface MigrationStatus {
  applied: string[];
  pending: string[];
  /** Applied migrations whose file changed since. */
  modified: string[];
  /**
   * Applied migrations (also in `applied`) recorded under an earlier version of the file that
   * differs from it in comments only (COMMENT_AMENDMENTS); migrate() records the new checksum.
   */
  amended: string[];
  /** Rows in _prisma_migrations with no folder on disk. */
  unknown: string[];
}

interface AppliedRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | string | null;
  rolled_back_at: Date | string | null;
}

export function checksum(sql: string | Buffer): string {
  return createHash('sha256').update(sql).digest('hex');
}

/** The SQL without its whole-line `--` comments: what a comment-only amendment keeps. */
export function withoutLineComments(sql: string): string {
  return sql
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('--'))
    .join('\n');
}

/**
 * Applied migrations whose file was later changed in whole-line `--` comments only: the
 * checksums of its earlier versions, and the checksum of its SQL without those comments. A
 * database that applied an earlier version takes the file as applied only while its SQL still
 * has that checksum; any other change to an applied file is refused as before.
 */
export const COMMENT_AMENDMENTS: Readonly<
  Record<string, { previous: readonly string[]; sql: string }>
> = {
  '20261128000000_init': {
    // A comment named a document outside this repository; it now names docs/architecture.md.
    previous: ['6cb44898965497fd897024dad6f120f454e934bfd3fb420d39ba01336a09450c'],
    sql: '7591d6fd6c7a22755152cf28cbe5074088ebbfbb42f63fa6d452acf5d213d0d6',
  },
};

function isCommentAmendment(file: MigrationFile, recorded: string): boolean {
  const amendment = COMMENT_AMENDMENTS[file.name];
  return (
    amendment !== undefined &&
    amendment.previous.includes(recorded) &&
    checksum(withoutLineComments(file.sql)) === amendment.sql
  );
}

/** Migration folders in Prisma's layout, ordered by name (their timestamp prefix). */
export async function readMigrations(dir = defaultMigrationsDir): Promise<MigrationFile[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const names = entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  return Promise.all(
    names.map(async (name) => {
      const bytes = await readFile(path.join(dir, name, 'migration.sql'));
      return { name, sql: bytes.toString('utf8'), checksum: checksum(bytes) };
    }),
  );
}

// Prisma's own definition of its bookkeeping table (Postgres connector).
const CREATE_MIGRATIONS_TABLE = `
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

async function appliedRows(session: SqlSession): Promise<AppliedRow[]> {
  const exists = await session.query<{ exists: boolean }>(
    `SELECT to_regclass('"_prisma_migrations"') IS NOT NULL AS "exists"`,
  );
  if (!exists[0]?.exists) return [];
  return session.query<AppliedRow>(
    `SELECT migration_name, checksum, finished_at, rolled_back_at
       FROM "_prisma_migrations" ORDER BY started_at`,
  );
}

function compare(files: MigrationFile[], rows: AppliedRow[]): MigrationStatus {
  const live = rows.filter((r) => r.rolled_back_at === null);
  const failed = live.filter((r) => r.finished_at === null);
  if (failed.length > 0) {
    throw new MigrationError(
      `Migration ${failed.map((r) => r.migration_name).join(', ')} started but never finished ` +
        `(recorded in _prisma_migrations without finished_at). Inspect the database, then mark it ` +
        `rolled back (prisma migrate resolve --rolled-back <name>) before migrating again.`,
    );
  }
  const byName = new Map(live.map((r) => [r.migration_name, r]));
  const status: MigrationStatus = {
    applied: [],
    pending: [],
    modified: [],
    amended: [],
    unknown: [],
  };
  for (const file of files) {
    const row = byName.get(file.name);
    if (!row) status.pending.push(file.name);
    else if (row.checksum === file.checksum) status.applied.push(file.name);
    else if (isCommentAmendment(file, row.checksum)) {
      status.applied.push(file.name);
      status.amended.push(file.name);
    } else status.modified.push(file.name);
  }
  const onDisk = new Set(files.map((f) => f.name));
  status.unknown = live.map((r) => r.migration_name).filter((name) => !onDisk.has(name));
  return status;
}

export async function migrationStatus(
  driver: SqlDriver,
  dir = defaultMigrationsDir,
): Promise<MigrationStatus> {
  const files = await readMigrations(dir);
  return driver.withSession(async (session) => compare(files, await appliedRows(session)));
}

export interface MigrateOptions {
  dir?: string;
  log?: (message: string) => void;
}

/**
 * Apply pending migrations in name order, each in its own transaction, under Prisma's advisory
 * lock, recording each in _prisma_migrations with Prisma's checksum so `prisma migrate status`
 * agrees. An applied migration whose file has changed is refused before anything runs, unless
 * the change is a comment-only amendment listed in COMMENT_AMENDMENTS.
 */
export async function migrate(
  driver: SqlDriver,
  { dir = defaultMigrationsDir, log = () => undefined }: MigrateOptions = {},
): Promise<MigrateResult> {
  const files = await readMigrations(dir);
  return driver.withSession(async (session) => {
    await session.query('SELECT pg_advisory_lock($1)', [ADVISORY_LOCK_KEY]);
    try {
      await session.exec(CREATE_MIGRATIONS_TABLE);
      // Read after taking the lock: a concurrent runner may have just applied everything.
      const status = compare(files, await appliedRows(session));
      if (status.modified.length > 0) {
        const details = status.modified.map((name) => {
          const file = files.find((f) => f.name === name);
          return `${name} (file checksum ${file?.checksum.slice(0, 12) ?? '?'}…)`;
        });
        throw new MigrationError(
          `Refusing to migrate: already-applied migration(s) changed on disk since they were ` +
            `applied: ${details.join(', ')}. Restore the original file and put the change in a ` +
            `new migration.`,
        );
      }
      for (const name of status.unknown) {
        log(`warning: migration ${name} is recorded in the database but missing on disk`);
      }
      // Comments changed since these were applied: record the file as it is now, as Prisma would.
      for (const file of files.filter((f) => status.amended.includes(f.name))) {
        await session.query(
          `UPDATE "_prisma_migrations" SET checksum = $1
            WHERE migration_name = $2 AND rolled_back_at IS NULL`,
          [file.checksum, file.name],
        );
        log(`recorded the new checksum of ${file.name}: only its comments changed`);
      }
      const applied: string[] = [];
      for (const file of files.filter((f) => status.pending.includes(f.name))) {
        const startedAt = new Date();
        await session.exec('BEGIN');
        try {
          await session.exec(file.sql);
          await session.query(
            `INSERT INTO "_prisma_migrations"
               (id, checksum, migration_name, started_at, finished_at, applied_steps_count)
             VALUES ($1, $2, $3, $4, now(), 1)`,
            [randomUUID(), file.checksum, file.name, startedAt],
          );
          await session.exec('COMMIT');
        } catch (error) {
          await session.exec('ROLLBACK').catch(() => undefined);
          const reason = error instanceof Error ? error.message : String(error);
          throw new MigrationError(`Migration ${file.name} failed and was rolled back: ${reason}`, {
            cause: error,
          });
        }
        log(`applied ${file.name}`);
        applied.push(file.name);
      }
      return { applied, alreadyApplied: status.applied };
    } finally {
      await session.query('SELECT pg_advisory_unlock($1)', [ADVISORY_LOCK_KEY]);
    }
  });
}
