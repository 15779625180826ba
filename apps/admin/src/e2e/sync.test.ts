// Catalog sync in a real browser (Debian's Chromium through playwright-core) against the real API,
// its in-process worker and database, started here: a catalog manager imports a file and follows
// it, reads and downloads the failed rows, cancels a running import, and adds, tests and deletes
// a webhook endpoint whose deliveries a receiver on this machine checks.
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { COLOURS, readFashionSample, renderCatalogImage } from '@lookalike/core';
import { verifyWebhook } from '@lookalike/sdk';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, haveChromium, launchChromium, recordPageErrors } from '../testing/browser';
import { REPO_ROOT, startStack, type Stack } from '../testing/stack';

/** Waits for what the page will show; no time is asserted, the limit only stops a hung run. */
const poll = <T>(fn: () => Promise<T> | T) => expect.poll(fn, { timeout: 60_000, interval: 100 });
/** Where screenshots go: LOOKALIKE_SCREENSHOTS=docs/screenshots to refresh the docs' pictures. */
const SHOTS = process.env.LOOKALIKE_SCREENSHOTS
  ? path.resolve(REPO_ROOT, process.env.LOOKALIKE_SCREENSHOTS)
  : undefined;

if (!haveChromium && !process.env.CI) {
  console.warn(
    `Skipping the dashboard's sync browser tests: no Chromium at ${CHROMIUM} (apt-get install chromium). In CI they fail instead.`,
  );
}

/** Closes a loopback server, its open connections too. */
function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => {
      resolve();
    });
  });
}

async function listen(server: http.Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/**
 * The merchant's image host, on loopback (the API may fetch from it: IMAGE_FETCH_ALLOW):
 * `/img/<n>.png` a demo catalog photo; `/held/<n>.png` the same for the first two requests,
 * then not until `release()` is called (an import that stays running); anything else 404.
 */
async function startImageHost() {
  const sample = await readFashionSample();
  const held: (() => void)[] = [];
  let released = false;
  let servedHeld = 0;
  const image = (n: number) =>
    renderCatalogImage(
      sample.images[n % sample.images.length] as Uint8Array,
      COLOURS[n % COLOURS.length] as (typeof COLOURS)[number],
    );
  const server = http.createServer((req, res) => {
    const m = /^\/(img|held)\/(\d+)\.png$/.exec(req.url ?? '');
    if (!m) {
      res.writeHead(404).end();
      return;
    }
    const send = () => {
      void image(Number(m[2])).then((png) => {
        if (!res.destroyed) res.writeHead(200, { 'content-type': 'image/png' }).end(png);
      });
    };
    // (The API fetches at most 4 images of a host at once: which rows come first is its choice.)
    if (m[1] === 'held' && !released && ++servedHeld > 2) held.push(send);
    else send();
  });
  const url = await listen(server);
  return {
    url,
    release() {
      released = true;
      for (const send of held.splice(0)) send();
    },
    close: () => closeServer(server),
  };
}

/** A webhook receiver: every delivery's headers and raw body, answered 200. */
async function startReceiver() {
  const received: { headers: Record<string, string>; body: string }[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({
        headers: Object.fromEntries(
          Object.entries(req.headers).map(([k, v]) => [
            k,
            Array.isArray(v) ? v.join(',') : (v ?? ''),
          ]),
        ),
        body: Buffer.concat(chunks).toString('utf8'),
      });
      res.writeHead(200).end();
    });
  });
  const url = `${await listen(server)}/hooks/lookalike`;
  return { url, received, close: () => closeServer(server) };
}

/** RFC 4180 records: quoted fields with "" for a quote, commas and line breaks inside quotes. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charAt(i);
    if (quoted) {
      if (c !== '"') field += c;
      else if (text[i + 1] === '"') {
        field += '"';
        i++;
      } else quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      record.push(field);
      field = '';
    } else if (c === '\n') {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
    } else if (c !== '\r') field += c;
  }
  if (field !== '' || record.length > 0) records.push([...record, field]);
  return records;
}

interface ApiJob {
  status: string;
  total: number;
  done: number;
  failed: number;
  errors: { nodes: { row: number; externalId: string | null; code: string; reason: string }[] };
}

describe.runIf(haveChromium || process.env.CI)(
  'catalog sync in the dashboard, in Chromium',
  { timeout: 240_000 },
  () => {
    let stack: Stack;
    let images: Awaited<ReturnType<typeof startImageHost>>;
    let receiver: Awaited<ReturnType<typeof startReceiver>>;
    let context: BrowserContext;
    let page: Page;
    let profile: string;
    let shots: string;
    const pageErrors: string[] = [];
    /** The job of the first import, by id. */
    let importedJob = '';

    const url = (p: string) => `${stack.adminUrl}${p}`;
    /** Waits until React has hydrated what `selector` finds (it then handles clicks). */
    const ready = (selector: string) => page.locator(`${selector}[data-ready]`).first().waitFor();
    const signIn = async (key: string) => {
      await page.goto(url('/signin'));
      await page.getByLabel('API key').fill(key);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL(/\/catalog$/);
    };
    const signOut = async () => {
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.waitForURL(/\/signin$/);
    };
    const shot = async (name: string, fullPage = false) => {
      await page.mouse.move(0, 0); // no hover highlight in the picture
      await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage });
    };
    /** The API's own word on a job, with the bootstrap key. */
    const apiJob = async (id: string): Promise<ApiJob> => {
      const { data, errors } = await stack.client.query<{ ingestJob: ApiJob }>(
        `query ($id: ID!) {
          ingestJob(id: $id) {
            status total done failed
            errors(first: 100) { nodes { row externalId code reason } }
          }
        }`,
        { id },
      );
      expect(errors).toBeUndefined();
      return data?.ingestJob as ApiJob;
    };
    /** Picks a file in the Import page's drop zone (its hidden file input). */
    const pickImportFile = async (name: string, body: string) => {
      await ready('.dropzone');
      await page
        .getByTestId('file-input')
        .setInputFiles({ name, mimeType: 'text/plain', buffer: Buffer.from(body) });
    };
    /** Imports a CSV from the Import page; resolves with the job's id from its page's URL. */
    const importCsv = async (name: string, csv: string): Promise<string> => {
      await page.goto(url('/import'));
      await pickImportFile(name, csv);
      await ready('[data-testid="import-file"] button');
      await page.getByRole('button', { name: 'Import', exact: true }).click();
      await page.waitForURL(/\/import\/[0-9a-f-]{36}$/);
      return /\/import\/([0-9a-f-]{36})$/.exec(page.url())?.[1] ?? '';
    };
    const jobStatus = () => page.getByTestId('job-status').getAttribute('data-status');
    /** The job's counters as shown: "3 imported · 2 failed · 5 rows · 4 images · 100.0% worked". */
    const counts = async () =>
      (await page.getByTestId('job-counts').locator('div').allTextContents())
        .map((t) => t.replace(/\s+/g, ' ').trim())
        .join(' · ');

    beforeAll(async () => {
      if (!haveChromium)
        throw new Error(
          `CI needs Debian's Chromium at ${CHROMIUM} for the dashboard's browser tests: apt-get install chromium (see .ci/run).`,
        );
      images = await startImageHost();
      receiver = await startReceiver();
      // The image host and the receiver are on loopback, which the API's fetcher refuses unless
      // the operator allows it.
      stack = await startStack({ products: 6, config: { IMAGE_FETCH_ALLOW: ['127.0.0.1'] } });
      profile = await mkdtemp(path.join(tmpdir(), 'lookalike-chromium-'));
      shots = SHOTS ?? (await mkdtemp(path.join(tmpdir(), 'lookalike-shots-')));
      await mkdir(shots, { recursive: true });
      context = await launchChromium(profile, {
        viewport: { width: 1440, height: 900 },
        deviceScaleFactor: 1,
        timezoneId: 'UTC',
        locale: 'en-GB',
        acceptDownloads: true,
      });
      page = context.pages()[0] ?? (await context.newPage());
      page.setDefaultTimeout(60_000);
      recordPageErrors(page, pageErrors);
      await signIn(stack.key);
    }, 1_800_000);

    afterEach(async ({ task }) => {
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when beforeAll failed
      if (task.result?.state !== 'fail' || !page) return;
      const file = path.join(
        tmpdir(),
        `lookalike-admin-failure-${task.name.replace(/\W+/g, '-').slice(0, 60)}.png`,
      );
      await page.screenshot({ path: file, fullPage: true }).catch(() => undefined);
      console.error(
        `Failed at ${page.url()}; screenshot ${file}\nDashboard log:\n${stack.adminLog.join('').slice(-3000)}`,
      );
    });

    afterAll(async () => {
      // Unset when beforeAll failed part-way.
      /* eslint-disable @typescript-eslint/no-unnecessary-condition */
      images?.release();
      await context?.close();
      await stack?.stop();
      await images?.close();
      await receiver?.close();
      /* eslint-enable @typescript-eslint/no-unnecessary-condition */
      if (profile) await rm(profile, { recursive: true, force: true });
      if (shots && !SHOTS) await rm(shots, { recursive: true, force: true });
    });

    it('import: says so when a file has no import format, and imports nothing', async () => {
      await page.goto(url('/import'));
      await pickImportFile('catalog.txt', 'externalId,title\nX-1,Nothing\n');
      expect(await page.getByTestId('unknown-format').textContent()).toContain('(.txt)');
      expect(await page.getByRole('button', { name: 'Import', exact: true }).isDisabled()).toBe(
        true,
      );
      // The route handler refuses it too, whatever the page does.
      const refused = await page.evaluate(async () => {
        const form = new FormData();
        form.set('file', new File(['externalId,title\nX-1,Nothing\n'], 'catalog.txt'));
        const res = await fetch('/api/import', { method: 'POST', body: form });
        return { status: res.status, body: (await res.json()) as { code: string; error: string } };
      });
      expect(refused).toMatchObject({ status: 400, body: { code: 'BAD_USER_INPUT' } });
      expect(refused.body.error).toContain('.txt');
    });

    it('import: a CSV with good and bad rows runs to COMPLETED; the failed rows are listed and downloadable', async () => {
      const csv = [
        'externalId,title,category,price,currency,imageUrls',
        `SYNC-001,Synced sneaker,Sneaker,49.00,EUR,${images.url}/img/1.png`,
        `SYNC-002,"Wrap dress, red",Dress,59.00,EUR,${images.url}/img/2.png`,
        // No title: refused when the file is read.
        `"SYNC-003, ""the bag""",,Bag,19.00,EUR,${images.url}/img/3.png`,
        // An image its host does not have: refused by the worker that fetches it.
        `SYNC-004,Unfetchable coat,Coat,99.00,EUR,${images.url}/missing/4.png`,
        `SYNC-005,Synced shirt,Shirt,29.00,EUR,${images.url}/img/5.png|${images.url}/img/6.png`,
      ].join('\n');
      importedJob = await importCsv('sync.csv', `${csv}\n`);

      await poll(jobStatus).toBe('COMPLETED');
      await poll(counts).toBe('3 imported · 2 failed · 5 rows · 4 images · 100.0% worked');
      expect(await page.getByTestId('job-status-badge').textContent()).toBe('COMPLETED');
      expect(await page.getByTestId('job-timing').textContent()).toMatch(/rows\/s · took /);
      // No cancelling a finished import.
      expect(await page.getByRole('button', { name: 'Cancel import' }).count()).toBe(0);

      const job = await apiJob(importedJob);
      expect(job).toMatchObject({ status: 'COMPLETED', total: 5, done: 3, failed: 2 });
      expect(job.errors.nodes.map((e) => [e.row, e.externalId, e.code])).toEqual([
        [3, 'SYNC-003, "the bag"', 'INVALID_ROW'],
        [4, 'SYNC-004', 'FETCH_FAILED'],
      ]);

      // The errors table: what the API says of each failed row.
      const table = page.getByTestId('row-errors');
      await poll(() => table.locator('tbody tr').count()).toBe(2);
      for (const e of job.errors.nodes) {
        const cells = await table.locator(`tr[data-row="${e.row}"] td`).allTextContents();
        expect(cells).toEqual([String(e.row), e.externalId, e.code, e.reason]);
      }
      await shot('import', true);

      // The download: a header line, then every failed row, quoted where it needs to be.
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.getByRole('link', { name: 'Download errors (CSV)' }).click(),
      ]);
      expect(download.suggestedFilename()).toBe(`import-${importedJob}-errors.csv`);
      const text = await readFile(await download.path(), 'utf8');
      expect(text.split('\n')[0]).toBe('row,externalId,code,reason');
      expect(text).toContain('3,"SYNC-003, ""the bag""",INVALID_ROW,');
      expect(parseCsv(text)).toEqual([
        ['row', 'externalId', 'code', 'reason'],
        ...job.errors.nodes.map((e) => [String(e.row), e.externalId ?? '', e.code, e.reason]),
      ]);

      // Among the past imports, linking back to its page.
      await page.goto(url('/import'));
      const row = page.locator(`tr[data-job="${importedJob}"]`);
      expect(await row.locator('.badge').textContent()).toBe('COMPLETED');
      expect((await row.locator('td').allTextContents()).slice(1, 7)).toEqual([
        'CSV',
        'COMPLETED',
        '5',
        '3',
        '2',
        '4',
      ]);
      await row.getByRole('link').click();
      await page.waitForURL(url(`/import/${importedJob}`));
      expect(await jobStatus()).toBe('COMPLETED');
    });

    it('import: a running import shows its progress, rate and time left, and Cancel stops it', async () => {
      // Two rows are imported at once; the host holds the images of the others, so the workers
      // wait on them and the job keeps running.
      const csv = [
        'externalId,title,category,price,currency,imageUrls',
        ...Array.from(
          { length: 32 },
          (_, i) => `HELD-${i + 1},Held ${i + 1},Bag,10,EUR,${images.url}/held/${i + 1}.png`,
        ),
      ].join('\n');
      try {
        const id = await importCsv('held.csv', csv);
        await poll(jobStatus).toBe('RUNNING');
        // (A held image times out after 10 s: rows may fail meanwhile.)
        await poll(counts).toMatch(/^2 imported · \d+ failed · 32 rows/);
        const bar = page.getByRole('progressbar', { name: 'Rows worked' });
        expect(Number(await bar.getAttribute('aria-valuenow'))).toBeGreaterThanOrEqual(6);
        await poll(() => page.getByTestId('job-timing').textContent()).toMatch(
          /rows\/s · time left .* · running for /,
        );

        await ready('[data-testid="job-status"] button');
        await page.getByRole('button', { name: 'Cancel import', exact: true }).click();
        await page.getByRole('dialog').getByRole('button', { name: 'Stop the import' }).click();
        await poll(jobStatus).toBe('CANCELLED');
        expect(await page.getByRole('button', { name: 'Cancel import', exact: true }).count()).toBe(
          0,
        );
        const job = await apiJob(id);
        expect(job.status).toBe('CANCELLED');
        expect(job.done).toBe(2);
      } finally {
        images.release();
      }
    });

    it('import: a file larger than a server action may take (16 MB) goes through to the API', async () => {
      // One product, and a column the import ignores holding 16 MB: next.config.ts caps server
      // actions at 12 MB, the import's route handler takes what the API takes.
      const csv = `externalId,title,notes\nBIG-1,Big file,${'x'.repeat(16 * 1024 * 1024)}\n`;
      const id = await importCsv('big.csv', csv);
      await poll(jobStatus).toBe('COMPLETED');
      expect(await counts()).toMatch(/^1 imported · 0 failed · 1 rows/);
      expect(await apiJob(id)).toMatchObject({ status: 'COMPLETED', total: 1, done: 1 });
    });

    it('webhooks: adds an endpoint (secret shown once), sends a test event it receives signed, deletes it', async () => {
      await page.goto(url('/webhooks'));
      await ready('form');
      // The events and what each is sent for are the API's (webhookEvents).
      const offered = page.locator('fieldset label.check');
      expect(await offered.locator('code').allTextContents()).toEqual([
        'import.completed',
        'import.failed',
        'image.indexed',
        'image.failed',
        'model.switched',
      ]);
      expect(await offered.nth(4).locator('.muted').textContent()).toBe(
        'another embedding model serves the searches',
      );
      await page.getByLabel('URL').fill(receiver.url);
      await page.getByLabel('import.failed').check();
      await page.getByRole('button', { name: 'Add endpoint' }).click();
      const secret = (await page.getByTestId('new-webhook-secret').textContent()) ?? '';
      expect(secret).toMatch(/^whsec_[A-Za-z0-9+/=]+$/);
      const card = page.locator('section[data-endpoint]');
      await card.waitFor();
      expect(await card.getByRole('heading', { level: 2 }).textContent()).toBe(receiver.url);
      expect(await card.locator('.badge').allTextContents()).toEqual([
        'import.completed',
        'import.failed',
      ]);

      await ready('section[data-endpoint] button');
      await page.getByRole('button', { name: `Send a test event to ${receiver.url}` }).click();
      const delivery = card.locator('tr[data-event="webhook.test"]');
      await delivery.waitFor();
      // The page refreshes itself while the delivery is pending; the in-process worker posts it.
      await poll(() => delivery.getAttribute('data-status')).toBe('DELIVERED');
      const cells = await delivery.locator('td').allTextContents();
      expect(cells.slice(1, 5)).toEqual(['DELIVERED', '1', '200', '—']);
      await shot('webhooks', true);

      // The receiver got one delivery, validly signed with the secret the page showed.
      expect(receiver.received).toHaveLength(1);
      const [got] = receiver.received;
      const event = verifyWebhook(secret, got?.body ?? '', got?.headers ?? {});
      expect(event.type).toBe('webhook.test');
      expect(cells[0]).toContain(got?.headers['webhook-id']);
      expect(() =>
        verifyWebhook(`whsec_${Buffer.alloc(24, 1).toString('base64')}`, got?.body ?? '', {
          ...got?.headers,
        }),
      ).toThrow();

      // After a reload the secret is gone for good.
      await page.reload();
      expect(await page.getByTestId('new-webhook-secret').count()).toBe(0);
      expect(await page.content()).not.toContain(secret);

      await ready(`button[aria-label="Delete ${receiver.url}"]`);
      await page.getByRole('button', { name: `Delete ${receiver.url}` }).click();
      await page.getByRole('dialog').getByRole('button', { name: 'Delete endpoint' }).click();
      await poll(() => page.locator('section[data-endpoint]').count()).toBe(0);
      const { data } = await stack.client.query<{ webhookEndpoints: unknown[] }>(
        `{ webhookEndpoints { id } }`,
      );
      expect(data?.webhookEndpoints).toEqual([]);
    });

    it('a key without CATALOG_WRITE and SETTINGS_WRITE sees imports read-only and no webhooks', async () => {
      const { data } = await stack.client.query<{ createApiKey: { secret: string } }>(
        `mutation { createApiKey(name: "e2e sync reader", scopes: [SEARCH]) { secret } }`,
      );
      await signOut();
      await signIn(data?.createApiKey.secret ?? '');
      try {
        await page.goto(url('/import'));
        expect(await page.locator('.alert.warn').textContent()).toContain('no CATALOG_WRITE scope');
        expect(await page.locator('.dropzone').count()).toBe(0);
        await page.locator(`tr[data-job="${importedJob}"]`).getByRole('link').click();
        await page.waitForURL(url(`/import/${importedJob}`));
        expect(await page.locator('.alert.warn').textContent()).toContain('read-only');
        expect(await page.getByTestId('row-errors').locator('tbody tr').count()).toBe(2);

        await page.goto(url('/webhooks'));
        expect(await page.locator('.alert.warn').textContent()).toContain(
          'no SETTINGS_WRITE scope',
        );
        expect(await page.locator('main button, main form').count()).toBe(0);
      } finally {
        await signOut();
        await signIn(stack.key);
      }
      // No page threw and no request failed with a server error in the whole run.
      expect(pageErrors).toEqual([]);
    });
  },
);
