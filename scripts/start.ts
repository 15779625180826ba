// `npm start`: the product on the embedded default — the GraphQL API (apps/api) with the demo
// catalog on first start, and the admin dashboard (apps/admin). Runs each app as a child
// process, prefixes its output, and stops them all on Ctrl-C.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const apps: { name: string; cwd: string; args: string[] }[] = [
  {
    name: 'api',
    cwd: path.join(root, 'apps/api'),
    args: ['--conditions=@lookalike/source', '--import', 'tsx', 'src/main.ts'],
  },
  // The dashboard: built when changed, then `next start` on ADMIN_PORT (default 3000).
  { name: 'admin', cwd: path.join(root, 'apps/admin'), args: ['scripts/start.mjs'] },
];
// The dashboard talks to the API started above.
process.env.API_URL ??= `http://127.0.0.1:${process.env.PORT ?? '4000'}`;

// Relative DATA_DIR means the repository root, wherever each app runs.
process.env.DATA_DIR = path.resolve(root, process.env.DATA_DIR ?? '.data');

const children: ChildProcess[] = [];
let exiting = false;

function stopAll(code: number) {
  if (exiting) return;
  exiting = true;
  for (const child of children) child.kill('SIGTERM');
  setTimeout(() => process.exit(code), 5000).unref();
  Promise.all(
    children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)))),
  ).then(
    () => process.exit(code),
    () => process.exit(code),
  );
}

for (const app of apps) {
  const child = spawn(process.execPath, app.args, {
    cwd: app.cwd,
    env: process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const prefix = (stream: NodeJS.ReadableStream, out: NodeJS.WriteStream) => {
    let buffered = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) out.write(`[${app.name}] ${line}\n`);
    });
  };
  prefix(child.stdout!, process.stdout);
  prefix(child.stderr!, process.stderr);
  child.on('exit', (code) => {
    if (!exiting) {
      console.error(`[${app.name}] exited with code ${code ?? 'null'}; stopping`);
      stopAll(code ?? 1);
    }
  });
}

process.on('SIGINT', () => stopAll(0));
process.on('SIGTERM', () => stopAll(0));
