// `npm start`: the product on the embedded default — the GraphQL API (apps/api) with the demo
// catalog on first start, and the admin dashboard (apps/admin). Runs each app as a child
// process and prefixes its output; `npm start -- api` (or `admin`) runs only the apps named.
// Ctrl-C or SIGTERM stops them: each app gets the signal once, finishes what it is doing and
// closes (the API closes its database, which removes the DATA_DIR lockfile); a second Ctrl-C
// makes them exit at once.
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

/**
 * How long the apps get to stop before they are killed: longer than the API's own bound
 * (SHUTDOWN_TIMEOUT_MS in apps/api/src/main.ts, 15 s), so it is the API that decides.
 */
const STOP_TIMEOUT_MS = 20_000;

const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !apps.some((a) => a.name === name));
if (unknown.length > 0) {
  console.error(
    `Unknown app ${unknown.join(', ')}: name any of ${apps.map((a) => a.name).join(', ')} (none: all).`,
  );
  process.exit(2);
}
const selected = wanted.length === 0 ? apps : apps.filter((a) => wanted.includes(a.name));

// The dashboard talks to the API started above.
process.env.API_URL ??= `http://127.0.0.1:${process.env.PORT ?? '4000'}`;

// Relative DATA_DIR means the repository root, wherever each app runs.
process.env.DATA_DIR = path.resolve(root, process.env.DATA_DIR ?? '.data');

const children: ChildProcess[] = [];
let stopping = false;

/** Send `signal` to an app and whatever it started (its process group). */
function signalApp(child: ChildProcess, signal: NodeJS.Signals) {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Exited meanwhile.
  }
}

const exited = (c: ChildProcess) =>
  new Promise<number>((resolve) => {
    if (c.exitCode !== null || c.signalCode !== null) resolve(c.exitCode ?? 1);
    else c.once('exit', (code) => resolve(code ?? 1));
  });

/** Stop every app with `signal`, wait for them, and exit: 0 when each stopped cleanly. */
function stopAll(signal: NodeJS.Signals, code?: number) {
  if (stopping) return;
  stopping = true;
  for (const child of children) child.kill(signal);
  setTimeout(() => {
    console.error(`The apps did not stop within ${STOP_TIMEOUT_MS / 1000} s; killing them.`);
    for (const child of children) signalApp(child, 'SIGKILL');
    process.exit(1);
  }, STOP_TIMEOUT_MS).unref();
  void Promise.all(children.map(exited)).then((codes) => {
    process.exit(code ?? (codes.every((c) => c === 0) ? 0 : 1));
  });
}

for (const app of selected) {
  const child = spawn(process.execPath, app.args, {
    cwd: app.cwd,
    env: process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group: a terminal's Ctrl-C goes to every process of the foreground group,
    // so in ours each app would get it twice (from the terminal, then from here) and take the
    // second for "exit now". Here it reaches this process alone, which passes it on once.
    detached: true,
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
    stream.on('end', () => {
      if (buffered) out.write(`[${app.name}] ${buffered}\n`);
    });
  };
  prefix(child.stdout!, process.stdout);
  prefix(child.stderr!, process.stderr);
  child.on('exit', (code) => {
    if (!stopping) {
      console.error(`[${app.name}] exited with code ${code ?? 'null'}; stopping`);
      stopAll('SIGTERM', code ?? 1);
    }
  });
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    if (!stopping) {
      // A closed terminal (SIGHUP) no longer reaches the apps' own groups: stop them as SIGTERM.
      stopAll(signal === 'SIGHUP' ? 'SIGTERM' : signal);
      return;
    }
    // Again: the apps exit at once (the API still removes its lockfile as it exits).
    for (const child of children) signalApp(child, signal === 'SIGHUP' ? 'SIGTERM' : signal);
  });
}
