import { defineConfig } from 'vitest/config';

// `npm test` runs every workspace's suite in one Vitest process, with one summary line, and the
// checks of docker-compose.yml and the Dockerfiles (tooling/deploy, not a workspace).
export default defineConfig({
  test: {
    projects: ['packages/*', 'apps/*', 'tooling/deploy'],
  },
});
