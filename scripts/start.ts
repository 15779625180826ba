// `npm start`: the product on the embedded default. For now it prepares the embedded database
// (PGlite + pgvector under DATA_DIR, migrations applied); the GraphQL API, the demo catalog and
// the admin dashboard arrive with the next issues (see README).
import path from 'node:path';
import { createDb, DbError } from '@lookalike/db';

const url = process.env.DATABASE_URL || undefined;
const dataDir = path.resolve(process.env.DATA_DIR || '.data');

try {
  const db = await createDb({ url, dataDir, migrate: true, log: (m) => console.log(`[db] ${m}`) });
  const status = await db.migrationStatus();
  const models = await db.models.list();
  console.log(
    `[db] ${db.engine === 'pglite' ? `embedded PGlite in ${dataDir}` : 'native Postgres'}: ` +
      `${status.applied.length} migration(s) applied; embedding models: ` +
      models.map((m) => `${m.id} (${m.dims}-d, ${m.status})`).join(', '),
  );
  console.log('The GraphQL API, demo catalog and admin dashboard arrive with the next issues.');
  await db.close();
} catch (error) {
  console.error(error instanceof DbError ? `${error.code}: ${error.message}` : error);
  process.exitCode = 1;
}
