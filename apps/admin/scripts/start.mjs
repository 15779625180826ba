// The dashboard for `npm start` (scripts/start.ts): build it when its sources changed (Turborepo
// replays its cache otherwise, in a second), then serve it with `next start` on ADMIN_PORT.
// The app itself validates the rest of its environment at boot (src/instrumentation.ts).
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';

const admin = path.resolve(import.meta.dirname, '..');
const root = path.resolve(admin, '..', '..');
const env = { ...process.env, NEXT_TELEMETRY_DISABLED: '1', NODE_ENV: 'production' };
const port = process.env.ADMIN_PORT || '3000';
if (!/^\d{1,5}$/.test(port) || Number(port) > 65535) {
  console.error(`Invalid environment:\n  ADMIN_PORT: must be a port number (got "${port}")`);
  process.exit(1);
}

console.log('Building the dashboard (cached when unchanged)…');
const build = spawnSync(
  path.join(root, 'node_modules', '.bin', 'turbo'),
  ['run', 'build', '--filter=@lookalike/admin', '--output-logs=errors-only'],
  {
    cwd: root,
    env,
    stdio: 'inherit',
  },
);
if (build.status !== 0) {
  console.error('Building the dashboard failed.');
  process.exit(build.status ?? 1);
}

const host = process.env.ADMIN_HOST || '127.0.0.1';
const next = spawn(
  process.execPath,
  [path.join(root, 'node_modules', 'next', 'dist', 'bin', 'next'), 'start', '-p', port, '-H', host],
  {
    cwd: admin,
    env,
    stdio: 'inherit',
  },
);
console.log(
  `Dashboard on http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port} — sign in with an API key; the first one is in ${path.join(env.DATA_DIR || path.join(root, '.data'), 'bootstrap-key')}`,
);
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => next.kill(signal));
next.on('exit', (code) => process.exit(code ?? 0));
