import { defineConfig } from 'prisma/config';

// Configuration for the Prisma CLI. Only `prisma generate` is used here: migrations are applied
// by @lookalike/db's own runner (`npm run db:migrate`), which keeps Prisma's bookkeeping.
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? 'postgresql://localhost:5432/lookalike' },
});
