// The README's "Integrate in fifteen minutes", run top to bottom as a newcomer would: every shell
// command of the section, in order, against a real `npm start` (the API and the dashboard), with
// what each prints checked. What differs from a newcomer's machine is only where things live:
// free ports instead of 4000, 3000 and 8080, a temporary DATA_DIR instead of .data, and no demo
// catalog (seeding 3000 products would take minutes here and is not what the section shows).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { exclusive, freePort } from '@lookalike/vitest-config';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../../..');

/** The section's shell commands in order: ```sh blocks, `\` continuations joined. */
function sectionCommands(readme: string, heading: string): string[] {
  const start = readme.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`README has no "## ${heading}" section`);
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  const commands: string[] = [];
  for (const block of section.matchAll(/```sh\n([\s\S]*?)```/g)) {
    const body = (block[1] ?? '').replace(/\\\n\s*/g, '');
    for (const line of body.split('\n')) if (line.trim()) commands.push(line.trim());
  }
  return commands;
}

interface Background {
  child: ChildProcess;
  output: string[];
}

/** A command the README puts in the background (or in its own terminal). */
function background(command: string, env: NodeJS.ProcessEnv): Background {
  const child = spawn('bash', ['-c', command], {
    cwd: root,
    env,
    // Its own process group: stopping it stops npm, tsx and node under it.
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  child.stdout.on('data', (d: Buffer) => output.push(d.toString()));
  child.stderr.on('data', (d: Buffer) => output.push(d.toString()));
  return { child, output };
}

async function stopGroup(bg: Background | undefined): Promise<void> {
  if (!bg || bg.child.exitCode !== null || bg.child.pid === undefined) return;
  const exited = new Promise((r) => bg.child.once('exit', r));
  process.kill(-bg.child.pid, 'SIGTERM');
  const killed = setTimeout(() => {
    if (bg.child.pid !== undefined) process.kill(-bg.child.pid, 'SIGKILL');
  }, 10_000);
  await exited;
  clearTimeout(killed);
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms: number) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

interface Ran {
  command: string;
  code: number;
  stdout: string;
  stderr: string;
}

function run(command: string, env: NodeJS.ProcessEnv): Promise<Ran> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', command], { cwd: root, env, stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => {
      resolve({ command, code: code ?? 1, stdout, stderr });
    });
  });
}

describe('README: Integrate in fifteen minutes', () => {
  let readme: string;
  let dataDir: string;
  let ports: { api: number; admin: number; hook: number };
  let env: NodeJS.ProcessEnv;
  const started: Background[] = [];
  let release: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    // `npm start` builds the dashboard into apps/admin/.next and serves it, as the dashboard's
    // browser suites do: one at a time.
    release = await exclusive('dashboard');
    readme = await readFile(path.join(root, 'README.md'), 'utf8');
    dataDir = await mkdtemp(path.join(tmpdir(), 'lookalike-readme-'));
    ports = { api: await freePort(), admin: await freePort(), hook: await freePort() };
    env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      PORT: String(ports.api),
      ADMIN_PORT: String(ports.admin),
      DATA_DIR: dataDir,
      DEMO_CATALOG: 'false',
      NO_COLOR: '1',
    };
  }, 1_800_000);

  afterAll(async () => {
    for (const bg of started.reverse()) await stopGroup(bg);
    await rm(dataDir, { recursive: true, force: true });
    await release?.();
  }, 60_000);

  it('runs every command of the section, in order, and each does what the README says', async () => {
    const commands = sectionCommands(readme, 'Integrate in fifteen minutes');
    const seen: Ran[] = [];
    let endpointId = '';
    let secret = '';
    const skipped: string[] = [];
    const local = (command: string) =>
      command
        .replaceAll('.data/', `${dataDir}/`)
        .replaceAll('localhost:4000', `127.0.0.1:${ports.api}`)
        .replaceAll('127.0.0.1:8080', `127.0.0.1:${ports.hook}`)
        .replaceAll('PORT=8080', `PORT=${ports.hook}`)
        .replaceAll('<endpoint-id>', endpointId)
        .replaceAll('<secret>', secret);

    for (const written of commands) {
      const command = local(written);
      if (command === 'npm install') {
        // This test runs in a checkout that `npm install` (or `npm ci`) already set up.
        skipped.push(command);
        continue;
      }
      if (/(^|\s)npm start$/.test(command)) {
        const app = background(command, env);
        started.push(app);
        // Started when the API answers and the dashboard (built first, cached by Turborepo) too.
        await until(
          'the API',
          async () => ((await fetch(`http://127.0.0.1:${ports.api}/readyz`)).ok ? true : undefined),
          300_000,
        );
        await until(
          'the dashboard',
          async () => {
            const res = await fetch(`http://127.0.0.1:${ports.admin}/signin`);
            return res.ok ? await res.text() : undefined;
          },
          600_000,
        ).then((page) => {
          expect(page).toContain('API key');
        });
        expect(app.output.join('')).toContain('bootstrap-key');
        continue;
      }
      const exported = /^export (\w+)=(.*)$/.exec(command);
      if (exported) {
        const [, name = '', value = ''] = exported;
        const ran = await run(`printf %s ${value}`, env);
        expect(ran.code, ran.stderr).toBe(0);
        env[name] = ran.stdout;
        continue;
      }
      if (command.endsWith(' &')) {
        const bg = background(command.slice(0, -2), env);
        started.push(bg);
        await until(
          `${written} to listen`,
          () => Promise.resolve(bg.output.join('').includes('listening on') ? true : undefined),
          60_000,
        );
        continue;
      }
      const ran = await run(command, env);
      seen.push(ran);
      expect(ran.code, `${written}\n${ran.stdout}\n${ran.stderr}`).toBe(0);
      const created = /Created endpoint (\S+) for/.exec(ran.stdout);
      if (created) {
        endpointId = created[1] ?? '';
        secret = ran.stdout.trim().split('\n').at(-1) ?? '';
        expect(secret).toMatch(/^whsec_/);
      }
    }
    expect(skipped).toEqual(['npm install']);

    const out = (prefix: string) => {
      const ran = seen.find((r) => r.command.startsWith(prefix));
      if (!ran) throw new Error(`the section has no "${prefix}" command`);
      return ran.stdout;
    };
    // 2. The key works: the key list has the bootstrap key.
    expect(out('npx lookalike keys')).toContain((env.LOOKALIKE_API_KEY ?? '').split('_')[1]);
    // 3. The example catalog imported whole.
    expect(out('npx lookalike import examples/catalog')).toMatch(
      /COMPLETED: 10 done, 0 failed of 10 rows, 10 images/,
    );
    expect(out('npx lookalike jobs')).toContain('COMPLETED');
    // 4. The shopper photo is of an ankle boot: curl, the CLI and the SDK find the catalog's.
    const curl = JSON.parse(out('curl')) as {
      data: { similarProducts: { hits: { product: { externalId: string } }[] } };
    };
    expect(curl.data.similarProducts.hits[0]?.product.externalId).toBe('SKU-010');
    expect(out('npx lookalike search').split('\n')[1]).toMatch(/^1 .* SKU-010 /);
    expect(out('npx lookalike match')).toMatch(/\n\s*no\s/);
    const example = out('npm run example');
    expect(example).toMatch(
      /imported 10 products, 0 failed\n\d\.\d{3} \w+\s+SKU-010 Suede ankle boot\n/,
    );
    // 5. The test event reached the receiver, which checked its signature.
    expect(out('npx lookalike webhooks test')).toMatch(/^Queued webhook\.test/);
    const receiver = started.at(-1);
    await until(
      'the receiver to print the event',
      () =>
        Promise.resolve(receiver?.output.join('').includes('webhook.test {') ? true : undefined),
      60_000,
    );
    const deliveries = await until(
      'the delivery to be DELIVERED',
      async () => {
        const ran = await run(local('npx lookalike webhooks deliveries <endpoint-id>'), env);
        return ran.stdout.includes('DELIVERED') ? ran.stdout : undefined;
      },
      60_000,
    );
    expect(deliveries).toMatch(/webhook\.test\s+DELIVERED\s+1\s+204\s/);

    // The section's TypeScript, as written, with the key from the environment.
    const snippet = /```ts\n([\s\S]*?)```/.exec(
      readme.slice(readme.indexOf('\n## Integrate in fifteen minutes\n')),
    )?.[1];
    if (!snippet) throw new Error('the section has no TypeScript snippet');
    // Inside the checkout, so `@lookalike/sdk` resolves as it does for the examples.
    const file = path.join(root, 'node_modules', '.cache', `readme-snippet-${process.pid}.mts`);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, local(snippet));
    try {
      const ran = await run(`npx tsx --conditions=@lookalike/source ${file}`, env);
      expect(ran.code, ran.stderr).toBe(0);
      expect(ran.stdout).toMatch(/^10 \/ 10$/m);
    } finally {
      await rm(file, { force: true });
    }
  }, 1_200_000);
});
