// The `lookalike` CLI as a user runs it: the real bin (packages/sdk/bin/lookalike.js) in a child
// process, against a real API server over HTTP.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { testEngines } from '@lookalike/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startImageServer, type ImageServer } from './testing/image-server.js';
import { startTestServer, type TestServer } from './testing/server.js';

const root = path.resolve(import.meta.dirname, '../../..');
const bin = path.join(root, 'packages/sdk/bin/lookalike.js');
const catalogDir = path.join(root, 'examples/catalog');
const sneakerPhoto = path.join(root, 'models/fashion-resnet-v2/parity/21-grey-sneaker.png');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function lookalike(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [bin, ...args],
      {
        cwd: root,
        // Only what the CLI reads, so the developer's own LOOKALIKE_* never leak in.
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
        timeout: 120_000,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** The rows of a table the CLI printed: cells split on runs of two or more spaces. */
function rows(table: string): string[][] {
  return table
    .trim()
    .split('\n')
    .filter((l) => !/^[-\s]+$/.test(l))
    .map((l) => l.trim().split(/\s{2,}/));
}

const engine = testEngines()[0];

describe('the lookalike CLI against the API', () => {
  let t: TestServer;
  let img: ImageServer;
  let dir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    if (!engine) throw new Error('no database engine');
    img = await startImageServer();
    t = await startTestServer(
      engine,
      { IMAGE_FETCH_ALLOW: ['127.0.0.1'], WORKER: 'on' },
      {
        imageFetch: { retryBaseMs: 10, timeoutMs: 5000 },
        worker: { pollingIntervalSeconds: 0.5 },
      },
    );
    dir = await mkdtemp(path.join(tmpdir(), 'lookalike-cli-'));
    env = { LOOKALIKE_URL: t.url, LOOKALIKE_API_KEY: t.key };
  }, 120_000);

  afterAll(async () => {
    await t.stop();
    await img.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('imports a CSV with progress lines, a summary, and the failed rows in a CSV', async () => {
    const file = path.join(dir, 'catalog.csv');
    await writeFile(
      file,
      [
        'externalId,title,imageUrls',
        `A-1,First,${img.url}/img/1.png`,
        `A-2,"Second, with a comma",${img.url}/img/2.png`,
        `A-3,Broken,${img.url}/corrupt/3.png`,
      ].join('\n'),
    );
    const run = await lookalike(['import', file, '--interval', '200'], env);
    expect(run.code).toBe(0);
    // Not a terminal: one line per change, ending at every row finished.
    const progress = run.stderr.trim().split('\n');
    expect(progress.at(-1)).toMatch(
      /^\[#{30}\] 3\/3 rows \(2 done, 1 failed\) \d+\.\d rows\/s COMPLETED$/,
    );
    expect(run.stdout).toMatch(/^Import \S+ COMPLETED: 2 done, 1 failed of 3 rows, 2 images in \d/);
    const errorsFile = path.join(dir, 'catalog.errors.csv');
    expect(run.stdout).toContain(`Failed rows: ${errorsFile}`);
    const errors = (await readFile(errorsFile, 'utf8')).trim().split('\n');
    expect(errors[0]).toBe('row,externalId,code,reason');
    expect(errors).toHaveLength(2);
    expect(errors[1]).toMatch(/^3,A-3,[A-Z_]+,/);
  }, 180_000);

  it('imports a folder and answers JSON with --json', async () => {
    const run = await lookalike(['--json', 'import', catalogDir, '--interval', '200'], env);
    expect(run.code).toBe(0);
    const job = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(job).toMatchObject({ status: 'COMPLETED', total: 10, done: 10, failed: 0 });
    expect(job.errorsFile).toBeNull();

    const jobs = await lookalike(['jobs'], env);
    expect(jobs.code).toBe(0);
    const table = rows(jobs.stdout);
    expect(table[0]).toEqual(['id', 'status', 'format', 'total', 'done', 'failed', 'created']);
    expect(table.slice(1).map((r) => r.slice(1, 6))).toEqual([
      ['COMPLETED', 'ZIP', '10', '10', '0'],
      ['COMPLETED', 'CSV', '3', '2', '1'],
    ]);
  }, 180_000);

  it('searches and matches, as tables and as JSON', async () => {
    const search = await lookalike(['search', sneakerPhoto, '--first', '3', '--no-detect'], env);
    expect(search.code).toBe(0);
    const table = rows(search.stdout);
    expect(table[0]).toEqual([
      '#',
      'score',
      'distance',
      'verdict',
      'externalId',
      'title',
      'category',
    ]);
    expect(table[1]?.slice(0, 1)).toEqual(['1']);
    expect(table[1]?.[4]).toBe('SKU-008');
    expect(search.stdout).toMatch(/\n[1-3] hits, model fashion-resnet-v\d, COSINE, \d+\.\d ms\n$/);

    const json = await lookalike(
      ['--json', 'search', sneakerPhoto, '--first', '3', '--no-detect'],
      env,
    );
    const answer = JSON.parse(json.stdout) as { hits: { product: { externalId: string } }[] };
    expect(answer.hits.map((h) => h.product.externalId)[0]).toBe('SKU-008');

    const dress = path.join(catalogDir, 'images/dress.png');
    const match = await lookalike(['match', dress, dress], env);
    expect(match.code).toBe(0);
    expect(rows(match.stdout)[1]?.slice(0, 2)).toEqual(['yes', 'EXACT']);
    const differ = await lookalike(
      ['--json', 'match', dress, path.join(catalogDir, 'images/sandal.png')],
      env,
    );
    expect(JSON.parse(differ.stdout)).toMatchObject({ isMatch: false });
  }, 120_000);

  it('lists models with coverage, keys and the webhook events', async () => {
    const models = await lookalike(['models'], env);
    expect(models.code).toBe(0);
    const active = rows(models.stdout).find((r) => r[1] === 'ACTIVE');
    expect(active?.[0]).toMatch(/^fashion-resnet-v\d$/);
    // Every image of both imports (12) has a vector of the serving model.
    expect(active?.slice(3, 6)).toEqual(['100.0%', '12', '0']);

    const keys = await lookalike(['keys'], env);
    expect(keys.code).toBe(0);
    expect(rows(keys.stdout)[0]).toEqual(['id', 'name', 'prefix', 'scopes', 'created', 'revoked']);
    expect(keys.stdout).toContain(t.key.split('_')[1]);

    const events = await lookalike(['webhooks', 'events'], env);
    expect(events.code).toBe(0);
    const listed = rows(events.stdout);
    expect(listed[0]).toEqual(['event', 'sent for']);
    expect(listed.slice(1).map((r) => r[0])).toEqual([
      'import.completed',
      'import.failed',
      'image.indexed',
      'image.failed',
      'model.switched',
    ]);
    expect(listed[1]?.[1]).toMatch(/import/);
  }, 60_000);

  it('says plainly what is wrong: a wrong key, no server, not an image, no file, bad usage', async () => {
    const wrongKey = await lookalike(['jobs'], {
      ...env,
      LOOKALIKE_API_KEY: `lk_${'A'.repeat(12)}_${'A'.repeat(40)}`,
    });
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.stderr).toMatch(
      /^lookalike: The API refused the key: .*Check --key or LOOKALIKE_API_KEY\.\n$/,
    );

    const noKey = await lookalike(['jobs'], { LOOKALIKE_URL: t.url });
    expect(noKey.code).toBe(1);
    expect(noKey.stderr).toMatch(/key/i);

    const down = await lookalike(['--url', 'http://127.0.0.1:9', 'jobs'], env);
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/not reachable.*\(set --url or LOOKALIKE_URL\)/);

    const text = path.join(dir, 'notes.png');
    await writeFile(text, 'these are notes, not pixels');
    const notImage = await lookalike(['search', text], env);
    expect(notImage.code).toBe(1);
    expect(notImage.stderr).toContain(`${text}: not an image the API accepts`);

    const missing = await lookalike(['search', path.join(dir, 'nowhere.jpg')], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('nowhere.jpg');

    const usage = await lookalike(['search'], env);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("missing required argument 'photo'");
  }, 120_000);
});
