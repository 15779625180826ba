// `npm run db:migrate`: apply pending migrations to DATABASE_URL, or to the embedded database
// under DATA_DIR (default ./.data) when DATABASE_URL is unset.
import path from 'node:path';
import { createDb } from '../create-db.js';
import { DbError } from '../errors.js';

const url = process.env.DATABASE_URL || undefined;
// npm runs workspace scripts in the workspace folder; relative paths mean where npm was invoked.
const dataDir = path.resolve(
  process.env.INIT_CWD ?? process.cwd(),
  process.env.DATA_DIR || './.data',
);

try {
  const db = await createDb({
    url,
    dataDir,
    log: (m) => {
      console.log(m);
    },
  });
  try {
    const target = url
      ? new URL(url).host + new URL(url).pathname
      : `embedded PGlite in ${dataDir}`;
    const { applied, alreadyApplied } = await db.migrate();
    console.log(
      `${target}: ${applied.length} migration(s) applied, ${alreadyApplied.length} already applied`,
    );
  } finally {
    await db.close();
  }
} catch (error) {
  console.error(error instanceof DbError ? `${error.code}: ${error.message}` : error);
  process.exitCode = 1;
}
