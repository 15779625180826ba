import path from 'node:path';
import type { NextConfig } from 'next';

const root = path.resolve(import.meta.dirname, '..', '..');

const config: NextConfig = {
  // The monorepo root: one lockfile, hoisted node_modules. Workspace packages resolve to their
  // built dist/ (turbo builds @lookalike/search first: apps/admin/turbo.json).
  turbopack: { root },
  outputFileTracingRoot: root,
  poweredByHeader: false,
  typescript: { tsconfigPath: 'tsconfig.next.json' },
  reactStrictMode: true,
  typedRoutes: false,
  // The API's multipart uploads pass through server actions and route handlers.
  experimental: { serverActions: { bodySizeLimit: '12mb' } },
};

export default config;
