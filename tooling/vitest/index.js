import { defineProject } from 'vitest/config';

/**
 * Workspace packages are resolved to their TypeScript sources in tests through the
 * `@lookalike/source` export condition, so `npm test` needs no build step.
 * @param {import('vitest/config').TestProjectInlineConfiguration['test']} test
 */
export function project(test) {
  const conditions = ['@lookalike/source', 'module', 'node', 'development|production'];
  return defineProject({
    resolve: { conditions },
    ssr: { resolve: { conditions, externalConditions: ['@lookalike/source'] } },
    // Real databases and models: PGlite alone takes seconds to boot on a busy 2-core machine.
    test: { environment: 'node', testTimeout: 60_000, hookTimeout: 120_000, ...test },
  });
}
