import { defineProject } from 'vitest/config';

/**
 * Workspace packages are resolved to their TypeScript sources in tests through the
 * `@lookalike/source` export condition, so `npm test` needs no build step.
 * @param {import('vitest/config').TestProjectInlineConfiguration['test']} test
 */
export function project(test) {
  const conditions = ['@lookalike/source', 'module', 'node', 'development|production'];
  return defineProject({
    resolve: {
      conditions,
      // graphql ships CommonJS (main) and ESM (module) builds. Node loads the CommonJS one for
      // type-graphql, Apollo and graphql-upload; Vite would give our sources the ESM one, and
      // graphql refuses to mix the two ("from another module or realm").
      alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }],
    },
    ssr: { resolve: { conditions, externalConditions: ['@lookalike/source'] } },
    // Real databases and models: PGlite alone takes seconds to boot on a busy 2-core machine.
    test: { environment: 'node', testTimeout: 60_000, hookTimeout: 120_000, ...test },
  });
}
export { exclusive } from './exclusive.js';
export { freePort } from './free-port.js';
