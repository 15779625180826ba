import { cp, mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createDb } from '../create-db.js';
import { MigrationError } from '../errors.js';
import { testEngines, type TestDatabase } from '../testing/engines.js';
import {
  checksum,
  COMMENT_AMENDMENTS,
  defaultMigrationsDir,
  migrate,
  migrationStatus,
  readMigrations,
  withoutLineComments,
} from './runner.js';

const INIT = '20261128000000_init';
/** The first migration's checksum as databases applied it, before its comment was amended. */
const INIT_AS_APPLIED = COMMENT_AMENDMENTS[INIT]?.previous[0] ?? '';

/** Record `name` in _prisma_migrations under another checksum, as an older file gave it. */
async function recordChecksum(db: TestDatabase, name: string, sum: string): Promise<void> {
  await db.db.sql.withSession((s) =>
    s.query(`UPDATE "_prisma_migrations" SET checksum = $1 WHERE migration_name = $2`, [sum, name]),
  );
}

interface Row {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  applied_steps_count: number;
}

async function bookkeeping(db: TestDatabase): Promise<Row[]> {
  return db.db.sql.withSession((s) =>
    s.query<Row>(
      'SELECT migration_name, checksum, finished_at, applied_steps_count FROM "_prisma_migrations" ORDER BY migration_name',
    ),
  );
}

describe.each(testEngines())('migration runner ($name)', (engine) => {
  let dir: string;
  const open: TestDatabase[] = [];
  const fresh = async () => {
    const db = await engine.create({ migrate: false });
    open.push(db);
    return db;
  };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'lookalike-migrations-'));
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((db) => db.drop()));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  async function copyMigrations(name: string): Promise<string> {
    const target = path.join(dir, name);
    await cp(defaultMigrationsDir, target, { recursive: true });
    return target;
  }

  it('applies every migration on a fresh database and records it the way Prisma does', async () => {
    const db = await fresh();
    const files = await readMigrations();
    expect(files.length).toBeGreaterThan(0);
    const result = await migrate(db.db.sql);
    expect(result.applied).toEqual(files.map((f) => f.name));
    const rows = await bookkeeping(db);
    expect(rows.map((r) => r.migration_name)).toEqual(files.map((f) => f.name));
    for (const [i, row] of rows.entries()) {
      const file = files[i];
      expect(row.checksum).toBe(file?.checksum);
      // Prisma's checksum is the sha256 of the file's bytes.
      const bytes = await readFile(
        path.join(defaultMigrationsDir, row.migration_name, 'migration.sql'),
      );
      expect(row.checksum).toBe(checksum(bytes));
      expect(row.finished_at).not.toBeNull();
      expect(row.applied_steps_count).toBe(1);
    }
    expect(await migrationStatus(db.db.sql)).toEqual({
      applied: files.map((f) => f.name),
      pending: [],
      modified: [],
      amended: [],
      unknown: [],
    });
    // The schema is really there: pgvector and the bundled model's row.
    const models = await db.db.models.list();
    expect(models.map((m) => [m.id, m.dims])).toEqual([['fashion-resnet-v1', 128]]);
  });

  it('a second run is a no-op', async () => {
    const db = await fresh();
    await migrate(db.db.sql);
    const before = await bookkeeping(db);
    const again = await migrate(db.db.sql);
    expect(again.applied).toEqual([]);
    expect(again.alreadyApplied).toEqual(before.map((r) => r.migration_name));
    expect(await bookkeeping(db)).toEqual(before);
  });

  it('refuses to run when an applied migration was changed, and changes nothing', async () => {
    const copy = await copyMigrations('tampered');
    const db = await fresh();
    await migrate(db.db.sql, { dir: copy });
    const file = path.join(copy, '20261128000000_init', 'migration.sql');
    await writeFile(file, `${await readFile(file, 'utf8')}\n-- an innocent-looking edit\n`);
    // A new migration next to the tampered one must not be applied either.
    await mkdir(path.join(copy, '20261201000000_more'));
    await writeFile(
      path.join(copy, '20261201000000_more', 'migration.sql'),
      'CREATE TABLE "later" (id int);',
    );
    const error = await migrate(db.db.sql, { dir: copy }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MigrationError);
    expect((error as Error).message).toMatch(/changed on disk.*20261128000000_init/);
    expect((await migrationStatus(db.db.sql, copy)).modified).toEqual(['20261128000000_init']);
    const later = await db.db.sql.withSession((s) =>
      s.query<{ t: string | null }>(`SELECT to_regclass('later')::text AS t`),
    );
    expect(later[0]?.t).toBeNull();
  });

  it('rolls back a failing migration completely and reports which one failed', async () => {
    const copy = await copyMigrations('failing');
    await mkdir(path.join(copy, '20261202000000_broken'));
    await writeFile(
      path.join(copy, '20261202000000_broken', 'migration.sql'),
      'CREATE TABLE "half_done" (id int);\nSELECT * FROM "no_such_table";\n',
    );
    const db = await fresh();
    const error = await migrate(db.db.sql, { dir: copy }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MigrationError);
    expect((error as Error).message).toMatch(/20261202000000_broken failed and was rolled back/);
    const state = await db.db.sql.withSession((s) =>
      s.query<{ t: string | null }>(`SELECT to_regclass('half_done')::text AS t`),
    );
    expect(state[0]?.t).toBeNull();
    const rows = await bookkeeping(db);
    expect(rows.map((r) => r.migration_name)).toEqual(['20261128000000_init']);
  });

  it('takes a database migrated before a comment-only amendment as migrated, and records the new checksum', async () => {
    const db = await fresh();
    await migrate(db.db.sql);
    const files = await readMigrations();
    await recordChecksum(db, INIT, INIT_AS_APPLIED);
    const status = await migrationStatus(db.db.sql);
    expect(status).toMatchObject({ modified: [], pending: [], amended: [INIT] });
    expect(status.applied).toEqual(files.map((f) => f.name));

    const log: string[] = [];
    const again = await migrate(db.db.sql, { log: (m) => log.push(m) });
    expect(again.applied).toEqual([]);
    expect(log).toEqual([`recorded the new checksum of ${INIT}: only its comments changed`]);
    const init = (await bookkeeping(db)).find((r) => r.migration_name === INIT);
    expect(init?.checksum).toBe(files.find((f) => f.name === INIT)?.checksum);
    expect((await migrationStatus(db.db.sql)).amended).toEqual([]);
  });

  it('refuses an amended migration whose SQL changed too, or a checksum it does not list', async () => {
    const copy = await copyMigrations('amended-sql');
    const db = await fresh();
    await migrate(db.db.sql, { dir: copy });
    const file = path.join(copy, INIT, 'migration.sql');
    await writeFile(file, `${await readFile(file, 'utf8')}\nCREATE TABLE "sneaked_in" (id int);\n`);
    await recordChecksum(db, INIT, INIT_AS_APPLIED);
    const error = await migrate(db.db.sql, { dir: copy }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MigrationError);
    expect((error as Error).message).toMatch(/changed on disk.*20261128000000_init/);

    const other = await fresh();
    await migrate(other.db.sql);
    await recordChecksum(other, INIT, 'f'.repeat(64));
    expect((await migrationStatus(other.db.sql)).modified).toEqual([INIT]);
  });

  it('concurrent runners apply each migration exactly once', async () => {
    const db = await fresh();
    const runners =
      engine.name === 'postgres' && db.url
        ? // Separate connection pools, as separate processes or API replicas would have.
          await Promise.all([1, 2, 3].map(() => createDb({ url: db.url, poolSize: 1 })))
        : [db.db, db.db, db.db];
    try {
      const results = await Promise.all(runners.map((r) => migrate(r.sql)));
      const applied = results.flatMap((r) => r.applied);
      const files = await readMigrations();
      expect(applied.sort()).toEqual(files.map((f) => f.name).sort());
      expect((await bookkeeping(db)).map((r) => r.migration_name)).toEqual(
        files.map((f) => f.name),
      );
    } finally {
      if (runners[0] !== db.db) await Promise.all(runners.map((r) => r.close()));
    }
  });
});

describe('comment-only amendments', () => {
  it('each amended file keeps the SQL it was applied with, under a new checksum', async () => {
    const files = await readMigrations();
    expect(Object.keys(COMMENT_AMENDMENTS).length).toBeGreaterThan(0);
    for (const [name, amendment] of Object.entries(COMMENT_AMENDMENTS)) {
      const file = files.find((f) => f.name === name);
      expect(file, name).toBeDefined();
      expect(checksum(withoutLineComments(file?.sql ?? ''))).toBe(amendment.sql);
      expect(amendment.previous).not.toContain(file?.checksum);
    }
  });

  it('keeps every line but whole-line -- comments', () => {
    expect(
      withoutLineComments("-- a\nSELECT 1; -- trailing stays\n   -- indented\nSELECT '--';"),
    ).toBe("SELECT 1; -- trailing stays\nSELECT '--';");
  });
});
