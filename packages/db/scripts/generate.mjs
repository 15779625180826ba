// `prisma generate`, offline. The Prisma CLI insists on a schema-engine binary and would try to
// download one; generating the client does not use it, so any existing file will do
// (docs/architecture.md, "Environment facts"). Migrations are applied by src/migrate/runner.ts instead.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const cli = require.resolve('prisma/build/index.js');
const config = path.resolve(import.meta.dirname, '..', '..', '..', 'prisma.config.ts');
const result = spawnSync(process.execPath, [cli, 'generate', '--config', config], {
  stdio: 'inherit',
  env: {
    ...process.env,
    PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? process.execPath,
    PRISMA_HIDE_UPDATE_MESSAGE: '1',
  },
});
process.exit(result.status ?? 1);
