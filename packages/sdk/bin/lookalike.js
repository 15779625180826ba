#!/usr/bin/env node
// The `lookalike` command. In a checkout (src/ present) it runs the TypeScript source through
// tsx; an installed package runs its built dist/.
/* global URL */
import { existsSync } from 'node:fs';

const source = new URL('../src/cli/main.ts', import.meta.url);
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(source.href);
} else {
  await import(new URL('../dist/cli/main.js', import.meta.url).href);
}
