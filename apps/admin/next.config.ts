import path from 'node:path';
import type { NextConfig } from 'next';
import { DATA_CONTENT_SECURITY_POLICY, SECURITY_HEADERS } from './src/server/security-headers';

const dataPolicy = [{ key: 'Content-Security-Policy', value: DATA_CONTENT_SECURITY_POLICY }];

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
  // On every response: pages, route handlers, static files. The Content-Security-Policy, which
  // needs a nonce per response, comes from src/proxy.ts; the answers the proxy skips (its
  // matcher: route handlers under /api, server actions) get a fixed one here.
  headers: () =>
    Promise.resolve([
      {
        source: '/:path*',
        headers: Object.entries(SECURITY_HEADERS).map(([key, value]) => ({ key, value })),
      },
      { source: '/api/:path*', headers: dataPolicy },
      { source: '/:path*', has: [{ type: 'header', key: 'next-action' }], headers: dataPolicy },
    ]),
};

export default config;
