import { defineConfig } from 'vitest/config';

// `npm test` runs every workspace's suite in one Vitest process, with one summary line.
export default defineConfig({
  test: {
    projects: ['packages/*', 'apps/*'],
  },
});
