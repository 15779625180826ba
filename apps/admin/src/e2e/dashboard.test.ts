// The dashboard in a real browser (Debian's Chromium through playwright-core) against the real
// API and database, started here: every flow of the issue, as a catalog manager would do it.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  COLOURS,
  GraphQLClient,
  readFashionSample,
  renderCatalogImage,
  renderShopperPhoto,
} from '@lookalike/api';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, startStack, type Stack } from '../testing/stack';

// The few lines that run in the page (page.evaluate) see these browser globals. This file
// compiles without the DOM lib (tsconfig.test.json): under it, @lookalike/api's sources, which
// it imports, do not type-check (Blob parts), so the globals it uses are declared here.
declare const document: {
  cookie: string;
  images: Iterable<{
    complete: boolean;
    naturalWidth: number;
    getBoundingClientRect(): { top: number };
  }>;
};
declare const window: { innerHeight: number; scrollTo(x: number, y: number): void };
declare class DataTransfer {
  readonly items: { add(file: File): void };
}

const CHROMIUM = '/usr/bin/chromium';
/** Waits for what the page will show; no time is asserted, the limit only stops a hung run. */
const poll = <T>(fn: () => Promise<T> | T) => expect.poll(fn, { timeout: 60_000, interval: 100 });
const haveChromium = existsSync(CHROMIUM);
/** Where screenshots go: LOOKALIKE_SCREENSHOTS=docs/screenshots to refresh the docs' pictures. */
const SHOTS = process.env.LOOKALIKE_SCREENSHOTS
  ? path.resolve(REPO_ROOT, process.env.LOOKALIKE_SCREENSHOTS)
  : undefined;

if (!haveChromium && !process.env.CI) {
  console.warn(
    `Skipping the dashboard's browser tests: no Chromium at ${CHROMIUM} (apt-get install chromium). In CI they fail instead.`,
  );
}

describe.runIf(haveChromium || process.env.CI)(
  'admin dashboard in Chromium',
  { timeout: 240_000 },
  () => {
    let stack: Stack;
    let context: BrowserContext;
    let page: Page;
    let profile: string;
    let shots: string;
    const pageErrors: string[] = [];
    /** The catalog images uploaded in the upload test, by file name. */
    const uploads = new Map<string, Buffer>();

    const url = (p: string) => `${stack.adminUrl}${p}`;
    /** Waits until every image in the viewport has loaded, so screenshots show them. */
    const imagesLoaded = () =>
      page.waitForFunction(() =>
        [...document.images]
          .filter((i) => i.getBoundingClientRect().top < window.innerHeight)
          .every((i) => i.complete && i.naturalWidth > 0),
      );
    /** Waits until React has hydrated what `selector` finds (it then handles clicks and drops). */
    const ready = (selector: string) => page.locator(`${selector}[data-ready]`).first().waitFor();
    /** Drags files onto a drop zone as from the desktop: dragenter, dragover, drop with a DataTransfer. */
    const dropFiles = async (
      selector: string,
      files: { name: string; type: string; bytes: Buffer }[],
    ) => {
      const payload = files.map((f) => ({
        name: f.name,
        type: f.type,
        base64: f.bytes.toString('base64'),
      }));
      await ready(selector);
      const transfer = await page.evaluateHandle((items) => {
        const dt = new DataTransfer();
        for (const f of items)
          dt.items.add(
            new File([Uint8Array.from(atob(f.base64), (c) => c.charCodeAt(0))], f.name, {
              type: f.type,
            }),
          );
        return dt;
      }, payload);
      for (const type of ['dragenter', 'dragover', 'drop'])
        await page.dispatchEvent(selector, type, { dataTransfer: transfer });
    };
    const shot = async (name: string, fullPage = false) => {
      await page.mouse.move(0, 0); // no hover highlight in the picture
      await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage });
    };

    beforeAll(async () => {
      if (!haveChromium)
        throw new Error(
          `CI needs Debian's Chromium at ${CHROMIUM} for the dashboard's browser tests: apt-get install chromium (see .ci/run).`,
        );
      stack = await startStack({ products: 60 });
      profile = await mkdtemp(path.join(tmpdir(), 'lookalike-chromium-'));
      shots = SHOTS ?? (await mkdtemp(path.join(tmpdir(), 'lookalike-shots-')));
      await mkdir(shots, { recursive: true });
      context = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
        args: [
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
        ],
        viewport: { width: 1440, height: 900 },
        deviceScaleFactor: 1,
        timezoneId: 'UTC',
        locale: 'en-GB',
      });
      page = context.pages()[0] ?? (await context.newPage());
      page.setDefaultTimeout(60_000);
      page.on('pageerror', (e) => pageErrors.push(e.message));
      page.on('console', (m) => {
        // 4xx answers the tests provoke (the bad upload) are logged as failed loads; server
        // errors are caught below by status instead.
        if (m.type() === 'error' && !m.text().startsWith('Failed to load resource'))
          pageErrors.push(m.text());
      });
      page.on('response', (r) => {
        if (r.status() >= 500) pageErrors.push(`${r.status()} from ${r.url()}`);
      });
    }, 900_000);

    afterEach(async ({ task }) => {
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when beforeAll failed
      if (task.result?.state !== 'fail' || !page) return;
      // What the browser showed and what the dashboard logged, for whoever reads the failure.
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
      await context?.close();
      await stack?.stop();
      /* eslint-enable @typescript-eslint/no-unnecessary-condition */
      if (profile) await rm(profile, { recursive: true, force: true });
      if (shots && !SHOTS) await rm(shots, { recursive: true, force: true });
    });

    it('signs in with a key (the page says where the bootstrap key is) into an httpOnly, sealed cookie', async () => {
      await page.goto(url('/catalog'));
      await page.waitForURL(/\/signin$/);
      await poll(() => page.getByText(path.join(stack.adminDataDir, 'bootstrap-key')).count()).toBe(
        1,
      );
      expect(await page.getByLabel('API key').inputValue()).toBe('');
      await shot('signin');

      await page.getByLabel('API key').fill(`lk_${'A'.repeat(12)}_${'B'.repeat(40)}`);
      await page.getByRole('button', { name: 'Sign in' }).click();
      // (Next.js's route announcer is a role=alert too: ask for ours by id.)
      await poll(() => page.locator('#signin-error').textContent()).toContain(
        'does not accept this key',
      );

      await page.getByLabel('API key').fill(stack.key);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL(/\/catalog$/);
      expect(await page.getByTestId('catalog-total').textContent()).toContain('60 products');

      const cookie = (await context.cookies()).find((c) => c.name === 'lk_admin_session');
      expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax', secure: false });
      expect(cookie?.value).not.toContain(stack.key.split('_')[2]);
      expect(await page.evaluate(() => document.cookie)).not.toContain('lk_admin_session');
    });

    it('shows the catalog with thumbnails, filters and pages', async () => {
      await imagesLoaded();
      expect(await page.locator('.card').count()).toBe(24);
      await shot('catalog');

      await page.getByRole('link', { name: 'Next →' }).click();
      await poll(() => page.getByText('25–48 of 60').count()).toBe(1);
      await page.getByRole('link', { name: '← Previous' }).click();
      await poll(() => page.getByText('1–24 of 60').count()).toBe(1);

      await page.getByLabel('Category').fill('Sneaker');
      await page.getByLabel('Labels').fill('color=red');
      await page.getByRole('button', { name: 'Filter' }).click();
      await page.waitForURL(/category=Sneaker/);
      const { data } = await stack.client.query<{ products: { totalCount: number } }>(
        `{ products(filter: { category: "Sneaker", labels: { color: "red" } }) { totalCount } }`,
      );
      expect(await page.getByTestId('catalog-total').textContent()).toContain(
        `${data?.products.totalCount ?? -1} product`,
      );
      const categories = await page.locator('.card .card-meta').allTextContents();
      expect(categories.filter((t) => t.startsWith('Sneaker')).length).toBe(
        data?.products.totalCount,
      );
    });

    it('uploads several images at once; the bad file gets its own error and the others land', async () => {
      const sample = await readFashionSample();
      for (const [i, index] of [500, 501, 502].entries()) {
        uploads.set(
          `E2E-00${i + 1}.png`,
          await renderCatalogImage(
            sample.images[index] as Uint8Array,
            COLOURS[i + 1] as (typeof COLOURS)[number],
          ),
        );
      }
      await page.goto(url('/upload'));
      await page.getByLabel('Category of new products (optional)').fill('Uploads');
      await dropFiles('.dropzone', [
        ...[...uploads].map(([name, bytes]) => ({ name, type: 'image/png', bytes })),
        {
          name: 'E2E-BROKEN.png',
          type: 'image/png',
          bytes: Buffer.from('%PDF-1.4 this is no image at all'),
        },
      ]);
      expect(await page.locator('.upload-item').count()).toBe(4);
      await page.getByRole('button', { name: 'Upload 4 files' }).click();
      const summary = page.getByTestId('upload-summary');
      await summary.waitFor();
      expect(await summary.textContent()).toMatch(
        /3\s*uploaded.*3\s*new products.*0\s*added to existing.*1\s*failed/,
      );
      const broken = page.locator('.upload-item[data-file="E2E-BROKEN.png"]');
      expect(await broken.getAttribute('data-state')).toBe('error');
      expect(await broken.getByRole('alert').textContent()).toMatch(/image/i);
      expect(await page.locator('.upload-item[data-state="done"]').count()).toBe(3);
      await shot('upload', true);

      // The failed file left nothing behind; the others are products with their image.
      const missing = await stack.client.query<{ productByExternalId: null }>(
        `{ productByExternalId(externalId: "E2E-BROKEN") { id } }`,
      );
      expect(missing.data?.productByExternalId).toBeNull();
      await page.goto(url('/catalog'));
      expect(await page.getByTestId('catalog-total').textContent()).toContain('63 products');
      for (const id of ['E2E-001', 'E2E-002', 'E2E-003'])
        expect(await page.locator(`.card[data-external-id="${id}"]`).count()).toBe(1);

      // Uploading the same file again adds to the product it names, it doesn't duplicate it.
      await page.goto(url('/upload'));
      await page.getByLabel(/Add to existing products, create missing ones/).check();
      await ready('.dropzone');
      await page
        .getByTestId('file-input')
        .first()
        .setInputFiles([
          { name: 'E2E-001.png', mimeType: 'image/png', buffer: uploads.get('E2E-001.png')! },
        ]);
      await page.getByRole('button', { name: 'Upload 1 file' }).click();
      await page.getByTestId('upload-summary').waitFor();
      expect(await page.getByTestId('upload-summary').textContent()).toMatch(
        /1\s*uploaded.*0\s*new products.*1\s*added to existing/,
      );
    });

    it('edits a product and deletes one, with confirmation', async () => {
      await page.goto(url('/catalog'));
      await page.locator('.card[data-external-id="E2E-001"]').click();
      await page.waitForURL(/\/catalog\/[\w-]+$/);
      await ready('form[aria-label="Edit product"]');
      await page.getByLabel('Title').fill('Navy pullover, studio shot');
      await page.getByRole('button', { name: 'Save changes' }).click();
      await page.getByText('Saved.').waitFor();
      const edited = await stack.client.query<{
        productByExternalId: { title: string; images: unknown[] };
      }>(`{ productByExternalId(externalId: "E2E-001") { title images { id } } }`);
      expect(edited.data?.productByExternalId.title).toBe('Navy pullover, studio shot');

      // Two more photos by the product page's drop zone; then one removed, after confirming.
      const photos = await Promise.all(
        [1, 2].map((seed) => renderShopperPhoto(uploads.get('E2E-001.png')!, seed)),
      );
      await dropFiles(
        '.dropzone',
        photos.map((bytes, i) => ({ name: `shot-${i + 1}.jpg`, type: 'image/jpeg', bytes })),
      );
      await poll(() => page.locator('.image-tile').count()).toBe(3);
      await ready('button[aria-label="Remove image 2"]');
      await page.getByRole('button', { name: 'Remove image 2' }).click();
      await page.getByRole('dialog').getByRole('button', { name: 'Remove image' }).click();
      await poll(() => page.locator('.image-tile').count()).toBe(2);
      const images = await stack.client.query<{ productByExternalId: { images: unknown[] } }>(
        `{ productByExternalId(externalId: "E2E-001") { images { id } } }`,
      );
      expect(images.data?.productByExternalId.images).toHaveLength(2);
      await imagesLoaded();
      await shot('product');

      await page.goto(url('/catalog'));
      await page.locator('.card[data-external-id="E2E-003"]').click();
      await page.waitForURL(/\/catalog\/[\w-]+$/);
      await ready('button');
      await page.getByRole('button', { name: 'Delete product' }).click();
      const dialog = page.getByRole('dialog');
      await dialog.getByRole('button', { name: 'Cancel' }).click();
      expect(await dialog.isVisible()).toBe(false);
      await page.getByRole('button', { name: 'Delete product' }).click();
      await dialog.getByRole('button', { name: 'Delete product' }).click();
      await page.waitForURL(/\/catalog$/);
      expect(await page.getByTestId('catalog-total').textContent()).toContain('62 products');
      const gone = await stack.client.query<{ productByExternalId: null }>(
        `{ productByExternalId(externalId: "E2E-003") { id } }`,
      );
      expect(gone.data?.productByExternalId).toBeNull();
    });

    it('searches by an uploaded image and finds its product first', async () => {
      await page.goto(url('/search'));
      await ready('.dropzone');
      await page
        .getByTestId('file-input')
        .first()
        .setInputFiles({
          name: 'query.png',
          mimeType: 'image/png',
          buffer: uploads.get('E2E-002.png')!,
        });
      await page.getByTestId('result-summary').waitFor();
      const first = page.locator('.hit').first();
      expect(await first.getAttribute('data-external-id')).toBe('E2E-002');
      expect(await first.locator('.badge').textContent()).toBe('EXACT');
      expect(await first.textContent()).toMatch(/score1\.0000/);
    });

    it('moving the threshold and switching the metric cut the results without searching again', async () => {
      const searches: string[] = [];
      page.on('request', (r) => {
        if (r.url().endsWith('/api/search')) searches.push(r.url());
      });
      const kept = async () => Number(await page.getByTestId('kept-count').textContent());
      const before = await kept();
      const total = await page.locator('.hit').count();
      expect(before).toBeGreaterThan(1);

      await page.getByLabel('Match threshold value').fill('0.95');
      await page.getByLabel('Search threshold value').fill('0.8');
      await poll(kept).toBeLessThan(before);
      const after = await kept();
      expect(await page.locator('.hit[data-kept="true"]').count()).toBe(after);
      expect(await page.locator('.hit[data-kept="false"]').count()).toBeGreaterThan(0);
      expect(await page.locator('.cut-line').textContent()).toMatch(/threshold cuts \d+ below/);
      expect(await page.locator('.hit').first().getAttribute('data-external-id')).toBe('E2E-002');
      // Every kept hit has a score at or above the threshold; every cut one below it.
      const scores = await Promise.all(
        (await page.locator('.hit').all()).map(async (hit) => ({
          kept: (await hit.getAttribute('data-kept')) === 'true',
          score: Number(/score([\d.]+)/.exec((await hit.textContent()) ?? '')?.[1]),
        })),
      );
      expect(scores.filter((s) => s.kept).every((s) => s.score >= 0.8 - 5e-5)).toBe(true);
      expect(scores.filter((s) => !s.kept).every((s) => s.score < 0.8 + 5e-5)).toBe(true);
      await page.evaluate(() => {
        window.scrollTo(0, 0);
      });
      await imagesLoaded();
      await shot('search');

      await page.getByRole('button', { name: 'Euclidean' }).click();
      await poll(() => page.getByText('Euclidean: distance = L2').count()).toBe(1);
      expect(await page.locator('.hit').first().getAttribute('data-external-id')).toBe('E2E-002');
      // Within pgvector's rounding of the same picture (EXACT_DISTANCE for L2 is 1e-3).
      await page.getByLabel('Search threshold value').fill('0.001');
      await poll(kept).toBe(1);
      expect(searches).toEqual([]);
      expect(total).toBeGreaterThan(after);
    });

    it('draws a region on the photo and searches only that part', async () => {
      const photo = page.locator('.query-image');
      const box = await photo.boundingBox();
      if (!box) throw new Error('the query photo is not on screen');
      const searched = page.waitForRequest((r) => r.url().endsWith('/api/search'));
      await page.mouse.move(box.x + box.width * 0.1, box.y + box.height * 0.1);
      await page.mouse.down();
      await page.mouse.move(box.x + box.width * 0.6, box.y + box.height * 0.7, { steps: 5 });
      await page.mouse.up();
      await searched;
      await page.getByTestId('result-summary').waitFor();
      // The region is in the photo's own pixels (256 x 256 here), not the screen's.
      const summary = (await page.locator('.query-image + details summary').textContent()) ?? '';
      const [, width, height, x, y] = (/Region (\d+)×(\d+) at (\d+),(\d+)/.exec(summary) ?? []).map(
        Number,
      );
      expect(x).toBeCloseTo(26, -1);
      expect(y).toBeCloseTo(26, -1);
      expect(width).toBeCloseTo(128, -1);
      expect(height).toBeCloseTo(154, -1);
      // A crop is not the uploaded picture any more: its best hit is no longer EXACT.
      expect(await page.locator('.hit').first().locator('.badge').textContent()).not.toBe('EXACT');
      expect(
        Number(/score([\d.]+)/.exec((await page.locator('.hit').first().textContent()) ?? '')?.[1]),
      ).toBeLessThan(0.9999);
      expect(await page.locator('.hit').count()).toBeGreaterThan(0);
    });

    it('tuning studio: evaluates both metrics, picks a threshold, previews, saves, and the API has it', async () => {
      await page.goto(url('/tuning'));
      const cosine = page.locator('[data-metric="COSINE"]');
      await cosine.waitFor();
      await page.locator('[data-metric="EUCLIDEAN"]').waitFor();
      expect(await cosine.locator('.chart .recharts-wrapper').count()).toBe(3);
      await page.getByTestId('dry-run').waitFor();
      expect(await page.getByTestId('dry-run').textContent()).toContain(
        'no change from the saved settings',
      );

      // The recommendations: target precision for "same product", best F1 (then two curve points
      // looser, by keyboard) for search. Should that put the match threshold below the search
      // threshold, the studio says so and refuses to save; the strictest point then fixes it.
      await cosine.getByRole('button', { name: /P ≥ 90.0% @ .* → match/ }).click();
      await cosine.getByRole('button', { name: /best F1/ }).click();
      await cosine.getByLabel('Search threshold').focus();
      await page.keyboard.press('ArrowRight');
      await page.keyboard.press('ArrowRight');
      const reading = async (id: string) => Number(await page.getByTestId(id).textContent());
      if ((await reading('new-match-threshold')) < (await reading('new-search-threshold'))) {
        expect(await page.getByRole('button', { name: 'Save settings' }).isDisabled()).toBe(true);
        await cosine.getByLabel('Match threshold').focus();
        await page.keyboard.press('Home');
      }
      const search = await reading('new-search-threshold');
      const match = await reading('new-match-threshold');
      expect(match).toBeGreaterThanOrEqual(search);
      expect(await page.getByTestId('dry-run').textContent()).toMatch(/\+\d+ added, −\d+ dropped/);
      await shot('tuning', true);

      await page.getByRole('button', { name: 'Save settings' }).click();
      await page.getByTestId('save-ok').waitFor();
      const saved = await stack.client.query<{
        searchSettings: {
          metric: string;
          searchThreshold: number;
          matchThreshold: number;
          usingModelDefaults: boolean;
        };
      }>(`{ searchSettings { metric searchThreshold matchThreshold usingModelDefaults } }`);
      expect(saved.data?.searchSettings.metric).toBe('COSINE');
      expect(saved.data?.searchSettings.searchThreshold).toBeCloseTo(search, 4);
      expect(saved.data?.searchSettings.matchThreshold).toBeCloseTo(match, 4);
      expect(saved.data?.searchSettings.usingModelDefaults).toBe(false);
      await poll(async () => page.getByTestId('dry-run').textContent()).toContain(
        'no change from the saved settings',
      );
    });

    it('creates a key with scopes (secret shown once) and revokes it', async () => {
      await page.goto(url('/keys'));
      await ready('form');
      await page.getByLabel('Name').fill('e2e storefront');
      await page.getByLabel('CATALOG_WRITE').check();
      await page.getByRole('button', { name: 'Create key' }).click();
      const secret = (await page.getByTestId('new-key-secret').textContent()) ?? '';
      expect(secret).toMatch(/^lk_[A-Za-z0-9]{12}_[A-Za-z0-9]{40}$/);
      const prefix = secret.split('_')[1] ?? '';
      const newKey = new GraphQLClient(stack.apiUrl, secret);
      const me = await newKey.query<{ viewer: { apiKey: { scopes: string[] } } }>(
        `{ viewer { apiKey { scopes } } }`,
      );
      expect(me.data?.viewer.apiKey.scopes.sort()).toEqual(['CATALOG_WRITE', 'SEARCH']);
      const row = page.locator(`tr[data-prefix="${prefix}"]`);
      await row.waitFor();
      expect(await row.textContent()).toContain('e2e storefront');
      await shot('keys');

      await ready('button[aria-label="Revoke e2e storefront"]');
      await page.getByRole('button', { name: 'Revoke e2e storefront' }).click();
      await page.getByRole('dialog').getByRole('button', { name: 'Revoke key' }).click();
      await row.locator('.badge.revoked').waitFor();
      expect((await newKey.query(`{ viewer { merchant { id } } }`)).status).toBe(401);
      // After a reload the secret is gone for good.
      await page.reload();
      expect(await page.getByTestId('new-key-secret').count()).toBe(0);
      expect(await page.content()).not.toContain(secret);
    });

    it('signs out; pages and images then need a session again', async () => {
      const sha = await page.evaluate(async () => {
        const res = await fetch('/catalog');
        return /\/images\/([0-9a-f]{64})/.exec(await res.text())?.[1];
      });
      expect(sha).toMatch(/^[0-9a-f]{64}$/);
      expect((await page.request.get(url(`/images/${sha}?w=128`))).headers()['content-type']).toBe(
        'image/webp',
      );
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.waitForURL(/\/signin$/);
      await page.goto(url('/keys'));
      await page.waitForURL(/\/signin$/);
      expect((await page.request.get(url(`/images/${sha}?w=128`))).status()).toBe(401);
    });

    it('says plainly when the API is down', async () => {
      await page.getByLabel('API key').fill(stack.key);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL(/\/catalog$/);
      await stack.api.close();
      await page.goto(url('/catalog'));
      await page.getByRole('heading', { name: 'The API is not answering' }).waitFor();
      expect(await page.locator('.alert.error').textContent()).toContain(
        `${stack.apiUrl} is not reachable`,
      );
      // No page threw and no request failed with a server error in the whole run.
      expect(pageErrors).toEqual([]);
    });
  },
);
