// The dashboard in a real browser (Debian's Chromium through playwright-core) against the real
// API and database, started here: every flow of the issue, as a catalog manager would do it.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  COLOURS,
  DETECTION_MARGIN,
  FASHION_CATEGORIES,
  growBox,
  readFashionSample,
  renderCatalogImage,
  renderScenePhoto,
  renderShopperPhoto,
  type ScenePhoto,
} from '@lookalike/core';
import { GraphQLClient } from '@lookalike/sdk';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DETECTION_MARGIN as ADMIN_DETECTION_MARGIN } from '../lib/detection';
import { CHROMIUM, haveChromium, launchChromium, recordPageErrors } from '../testing/browser';
import { REPO_ROOT, startStack, type Stack } from '../testing/stack';

// The few lines that run in the page (page.evaluate) see these browser globals. This file
// compiles without the DOM lib (tsconfig.test.json): under it, the workspace sources it imports
// (@lookalike/api, core, sdk) do not type-check (Blob parts), so the globals it uses are declared
// here.
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

/** The stack's default model (MODELS' first, `fashion-resnet`: its newest bundled version). */
const SERVING = 'fashion-resnet-v2';
const SERVING_DIMS = 168;
/** Waits for what the page will show; no time is asserted, the limit only stops a hung run. */
const poll = <T>(fn: () => Promise<T> | T) => expect.poll(fn, { timeout: 60_000, interval: 100 });
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
    /** A model's panel on the Models page. */
    const modelCard = (key: string) => page.locator(`section[data-model="${key}"]`);
    /** What the sidebar says serves: "model <key> · <dims>-d · <device>". */
    const servingModel = async () =>
      ((await page.getByTestId('serving-model').textContent()) ?? '').replace(/\s+/g, ' ');
    /** From the sign-in page. */
    const signIn = async (key: string) => {
      await page.getByLabel('API key').fill(key);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL(/\/catalog$/);
    };
    /** Demo products side by side on a grained table, each in its catalog colour. */
    const scenePhoto = async (externalIds: string[], seed: number): Promise<ScenePhoto> => {
      const sample = await readFashionSample();
      const items = [];
      for (const externalId of externalIds) {
        const { data } = await stack.client.query<{
          productByExternalId: { labels: { color: string } };
        }>(`query ($id: String!) { productByExternalId(externalId: $id) { labels } }`, {
          id: externalId,
        });
        const colour = COLOURS.find((c) => c.name === data?.productByExternalId.labels.color);
        items.push({
          pixels: sample.images[Number(externalId.slice(-5)) - 1] as Uint8Array,
          colour: colour as (typeof COLOURS)[number],
        });
      }
      return renderScenePhoto(items, seed);
    };
    interface Box {
      x: number;
      y: number;
      width: number;
      height: number;
    }
    interface ApiPhotoAnswer {
      searchedBox: Box;
      searchedDetection: { box: Box; score: number; category: string | null } | null;
      objects: {
        box: Box;
        score: number;
        category: string | null;
        hits: { product: { externalId: string } }[];
      }[];
    }
    /** What the API itself answers for a photo (cosine, loosest threshold, `first` per box). */
    const apiAnswer = async (photo: Uint8Array, first: number): Promise<ApiPhotoAnswer> => {
      const res = await stack.client.upload<{ similarProducts: ApiPhotoAnswer }>(
        `query ($image: Upload!, $first: Int) {
          similarProducts(image: $image, first: $first, metric: COSINE, threshold: -1) {
            searchedBox { x y width height }
            searchedDetection { box { x y width height } score category }
            objects { box { x y width height } score category hits { product { externalId } } }
          }
        }`,
        { first },
        { image: { bytes: photo, type: 'image/jpeg', name: 'scene.jpg' } },
      );
      expect(res.errors).toBeUndefined();
      return res.data?.similarProducts as ApiPhotoAnswer;
    };
    const boxKey = (b: Box) => `${b.x},${b.y},${b.width},${b.height}`;
    const label = (o: { category: string | null; score: number }) =>
      `${o.category ?? 'Product'} ${o.score.toFixed(2)}`;
    /** An attribute of every element `selector` finds, in order. */
    const attributes = async (selector: string, name: string) =>
      Promise.all((await page.locator(selector).all()).map((e) => e.getAttribute(name)));
    /** The results' externalIds as shown, in order. */
    const shownHits = () => attributes('.hit', 'data-external-id');
    /** The box drawn as searched (aria-pressed), by its data-box. */
    const pressedBox = () => page.locator('.det-box[aria-pressed="true"]').getAttribute('data-box');
    /** Uploads a photo into the playground and waits for its results and boxes. */
    const searchPhoto = async (name: string, photo: Buffer) => {
      await page.goto(url('/search'));
      await ready('.dropzone');
      await page
        .getByTestId('file-input')
        .first()
        .setInputFiles({ name, mimeType: 'image/jpeg', buffer: photo });
      await page.getByTestId('result-summary').waitFor();
      await page.getByTestId('searched-legend').waitFor();
    };
    /** Set when the bundled detector drew boxes on a photo: detection.png then shows them. */
    let realDetectionShot = false;

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
      context = await launchChromium(profile, {
        viewport: { width: 1440, height: 900 },
        deviceScaleFactor: 1,
        timezoneId: 'UTC',
        locale: 'en-GB',
      });
      page = context.pages()[0] ?? (await context.newPage());
      page.setDefaultTimeout(60_000);
      recordPageErrors(page, pageErrors);
    }, 1_800_000);

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
      // Filling the thresholds above scrolled the page; the mouse works in the viewport.
      await photo.scrollIntoViewIfNeeded();
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

    it('more like this: a hit is the query, both metrics come back, the sliders re-cut them', async () => {
      // Still on the region search above; from the saved cosine settings.
      await page.getByRole('button', { name: 'Reset to saved settings' }).click();
      await page.getByRole('button', { name: 'Cosine' }).click();
      const hit = page.locator('.hit').nth(1);
      const externalId = (await hit.getAttribute('data-external-id')) ?? '';
      const title = (await hit.locator('.title').textContent()) ?? '';
      const productId = /\/catalog\/([\w-]+)$/.exec(
        (await hit.locator('a.thumb').getAttribute('href')) ?? '',
      )?.[1];
      const embeds = stack.embedCalls();
      await hit.getByRole('button', { name: 'More like this' }).click();
      await poll(() => page.getByTestId('like-of').count()).toBe(1);
      expect(await page.getByTestId('like-of').textContent()).toContain(title);
      expect(await page.getByRole('heading', { name: 'More like this' }).count()).toBe(1);
      expect(await page.getByTestId('result-summary').textContent()).toContain(SERVING);
      // The product's stored vectors: nothing embedded; the product itself is left out, and the
      // rest come in the API's order for productIds.
      expect(stack.embedCalls()).toBe(embeds);
      await page.evaluate(() => {
        window.scrollTo(0, 0);
      });
      await imagesLoaded();
      await shot('more-like-this');
      const shown = async () =>
        Promise.all(
          (await page.locator('.hit').all()).map((h) => h.getAttribute('data-external-id')),
        );
      const answer = async (metric: string, threshold: number) =>
        (
          await stack.client.query<{
            similarProducts: { hits: { product: { externalId: string } }[] };
          }>(
            `query ($ids: [ID!], $metric: SimilarityMetric, $t: Float) {
              similarProducts(productIds: $ids, first: 100, metric: $metric, threshold: $t) { hits { product { externalId } } }
            }`,
            { ids: [productId], metric, t: threshold },
          )
        ).data?.similarProducts.hits.map((h) => h.product.externalId) ?? [];
      const cosine = await shown();
      expect(cosine.length).toBeGreaterThan(1);
      expect(cosine).not.toContain(externalId);
      expect(cosine).toEqual((await answer('COSINE', -1)).slice(0, cosine.length));

      // The threshold and the metric re-cut the answer in the browser: no request goes out.
      const posts: string[] = [];
      const onRequest = (r: { method(): string; url(): string }) => {
        if (r.method() === 'POST') posts.push(r.url());
      };
      page.on('request', onRequest);
      const kept = async () => Number(await page.getByTestId('kept-count').textContent());
      const before = await kept();
      await page.getByLabel('Search threshold value').fill('0.99');
      await poll(kept).toBeLessThan(Math.max(1, before));
      await page.getByRole('button', { name: 'Euclidean' }).click();
      await poll(() => page.getByText('Euclidean: distance = L2').count()).toBe(1);
      const euclidean = await shown();
      expect(euclidean).not.toContain(externalId);
      expect(euclidean).toEqual((await answer('EUCLIDEAN', 1e6)).slice(0, euclidean.length));
      page.off('request', onRequest);
      expect(posts).toEqual([]);

      // Back to the photo's own results.
      await page.getByRole('button', { name: "Back to the photo's results" }).click();
      await poll(() => page.getByTestId('like-of').count()).toBe(0);
      await page.getByTestId('result-summary').waitFor();
    });

    it('detection: the bundled detector on a photo of two products on a table; the page draws what the API found', async () => {
      const scene = await scenePhoto(['DEMO-00001', 'DEMO-00002'], 101);
      const expected = await apiAnswer(scene.photo, 4);
      await searchPhoto('table.jpg', scene.photo);
      const drawn = await attributes('.det-box', 'data-box');
      // However many the current model finds: exactly those, where the API says.
      expect(drawn).toEqual(expected.objects.map((o) => boxKey(o.box)));
      const legend = await page.getByTestId('searched-legend').textContent();
      console.log(
        `the bundled detector found ${expected.objects.length} products in the table photo: ${expected.objects.map(label).join(', ') || 'none'}`,
      );
      if (!expected.searchedDetection) {
        expect(legend).toContain('Searched the whole photo (no product detected)');
        expect(await page.getByTestId('searched-box').count()).toBe(0);
        return;
      }
      expect(legend).toContain(`Searched: ${label(expected.searchedDetection)}`);
      expect(await pressedBox()).toBe(boxKey(expected.searchedDetection.box));
      expect(await page.getByTestId('searched-box').count()).toBe(1);
      expect(await page.getByTestId('object-hits').count()).toBe(expected.objects.length);
      await page.evaluate(() => {
        window.scrollTo(0, 0);
      });
      await imagesLoaded();
      await shot('detection');
      realDetectionShot = true;
      if (expected.objects.length < 2) return;

      // Another box: it is searched and highlighted, and its results are its object's.
      const other = expected.objects.findIndex(
        (o) => boxKey(o.box) !== boxKey(expected.searchedDetection?.box as Box),
      );
      const target = expected.objects[other] as ApiPhotoAnswer['objects'][number];
      await page.locator(`.det-box[data-box="${boxKey(target.box)}"]`).click();
      await poll(pressedBox).toBe(boxKey(target.box));
      await page.getByTestId('result-summary').waitFor();
      expect(await page.getByTestId('searched-legend').textContent()).toContain(
        `Searched: ${label(target)}`,
      );
      expect((await shownHits()).slice(0, target.hits.length)).toEqual(
        target.hits.map((h) => h.product.externalId),
      );
    });

    it('detection: boxes are buttons; a click or Enter searches that product and highlights it', async () => {
      // The boxes the products really have in this photo, given to the API by script (the real
      // detector still runs): the right one is the main product, though it is listed second.
      const scene = await scenePhoto(['DEMO-00002', 'DEMO-00009'], 7);
      const [left, right] = scene.boxes as [Box, Box];
      stack.detector.script(scene.photo, [
        { box: left, score: 0.62, classIndex: 2, category: FASHION_CATEGORIES[2] },
        { box: right, score: 0.88, classIndex: 5, category: FASHION_CATEGORIES[5] },
      ]);
      const leftLabel = `${FASHION_CATEGORIES[2]} 0.62`;
      const rightLabel = `${FASHION_CATEGORIES[5]} 0.88`;
      const expected = await apiAnswer(scene.photo, 4);
      expect(expected.objects.map((o) => boxKey(o.box))).toEqual([right, left].map(boxKey));
      await searchPhoto('two.jpg', scene.photo);

      expect(await page.locator('.det-box').count()).toBe(2);
      expect(await page.getByTestId('searched-legend').textContent()).toContain(
        `Searched: ${rightLabel}`,
      );
      expect(await pressedBox()).toBe(boxKey(right));
      expect(
        await page.getByRole('button', { name: `Search ${leftLabel}`, exact: false }).count(),
      ).toBe(1);
      // The dashed outline is what the API searched: the box grown by its margin.
      const first = await shownHits();
      expect(first.slice(0, 4)).toEqual(expected.objects[0]?.hits.map((h) => h.product.externalId));
      // Each product's nearest few, under the photo.
      const strip = page.getByTestId('object-hits');
      expect(await strip.count()).toBe(2);
      expect(
        await attributes('[data-testid="object-hits"]:first-child a', 'data-external-id'),
      ).toEqual(expected.objects[0]?.hits.map((h) => h.product.externalId));

      // A click on the left box searches it: the region is the box grown as the API grows its
      // pick (the dashboard's margin is the core's), and the boxes are not asked for again (the
      // detector does not run: a region is searched as given).
      expect(ADMIN_DETECTION_MARGIN).toBe(DETECTION_MARGIN);
      const calls = stack.detector.calls;
      await page.getByRole('button', { name: `Search ${leftLabel}`, exact: false }).click();
      await poll(pressedBox).toBe(boxKey(left));
      await page.getByTestId('result-summary').waitFor();
      const grown = growBox(left, scene.width, scene.height, DETECTION_MARGIN);
      expect(await page.locator('.query-image + details summary').textContent()).toBe(
        `Region ${grown.width}×${grown.height} at ${grown.x},${grown.y}`,
      );
      expect(stack.detector.calls).toBe(calls);
      expect(await page.getByTestId('searched-legend').textContent()).toContain(
        `Searched: ${leftLabel}`,
      );
      expect(await page.locator('.det-box').count()).toBe(2);
      const second = await shownHits();
      expect(second).not.toEqual(first);
      expect(second.slice(0, 4)).toEqual(
        expected.objects[1]?.hits.map((h) => h.product.externalId),
      );
      if (!realDetectionShot) {
        await page.evaluate(() => {
          window.scrollTo(0, 0);
        });
        await imagesLoaded();
        await shot('detection');
      }

      // By keyboard: the right box again, and the first results come back.
      await page.getByRole('button', { name: `Search ${rightLabel}`, exact: false }).focus();
      await page.keyboard.press('Enter');
      await poll(pressedBox).toBe(boxKey(right));
      await page.getByTestId('result-summary').waitFor();
      await poll(shownHits).toEqual(first);

      // Detection off: the whole photo, no boxes; on again: the boxes come back.
      const toggle = page.getByLabel('Find the products in the photo and search the main one');
      await toggle.uncheck();
      await poll(() => page.getByTestId('searched-legend').textContent()).toContain(
        'Searched the whole photo (detection off)',
      );
      expect(await page.locator('.det-box').count()).toBe(0);
      await toggle.check();
      await poll(() => page.locator('.det-box').count()).toBe(2);
      expect(await pressedBox()).toBe(boxKey(right));
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

    it('tuning studio dry run: the sample queries are stored images, nothing is downloaded or embedded', async () => {
      const embeds = stack.embedCalls();
      await page.goto(url('/tuning'));
      const cosine = page.locator('[data-metric="COSINE"]');
      await cosine.waitFor();
      await page.getByTestId('dry-run').waitFor();
      expect(stack.embedCalls()).toBe(embeds);
      // A looser search threshold: every sample query gets a row, and keeps its own product.
      await cosine.getByLabel('Search threshold').focus();
      await page.keyboard.press('End');
      await poll(async () => page.getByTestId('dry-run').textContent()).toMatch(
        /on 12 catalog images as queries: results \+\d+ added/,
      );
      await page.getByTestId('dry-run').getByText('Per query').click();
      const rows = page.getByTestId('dry-run').locator('tbody tr');
      expect(await rows.count()).toBe(12);
      for (const label of await rows.locator('td:first-child').allTextContents())
        expect(label).toMatch(/^(DEMO|E2E)-[\w-]+ · /);
      const matches = await rows.locator('td:last-child').allTextContents();
      expect(matches.every((m) => /^[1-9]\d* → [1-9]\d*$/.test(m.trim()))).toBe(true);
    });

    it('uploads: two files naming the same new product at once end as one product with both images', async () => {
      const sample = await readFashionSample();
      const [a, b, c] = await Promise.all(
        [510, 511, 512].map((index, i) =>
          renderCatalogImage(
            sample.images[index] as Uint8Array,
            COLOURS[i + 4] as (typeof COLOURS)[number],
          ),
        ),
      );
      const upload = (mode: string, externalId: string, name: string, bytes: Buffer) =>
        page.request.post(url('/api/upload'), {
          multipart: {
            mode,
            externalId,
            title: 'Raced upload',
            category: 'Uploads',
            file: { name, mimeType: 'image/png', buffer: bytes },
          },
        });
      const images = async (externalId: string) =>
        (
          await stack.client.query<{ productByExternalId: { images: { id: string }[] } | null }>(
            `query ($e: String!) { productByExternalId(externalId: $e) { images { id } } }`,
            { e: externalId },
          )
        ).data?.productByExternalId?.images.length;

      // "Add to existing, create missing": both land, on the one product the first created.
      const ensured = await Promise.all([
        upload('ensure', 'E2E-RACE', 'E2E-RACE_front.png', a!),
        upload('ensure', 'E2E-RACE', 'E2E-RACE_back.png', b!),
      ]);
      expect(ensured.map((r) => r.status())).toEqual([200, 200]);
      const bodies = (await Promise.all(ensured.map((r) => r.json()))) as {
        productId: string;
        externalId: string;
        created: boolean;
        image: { sha256: string };
      }[];
      expect(new Set(bodies.map((x) => x.productId)).size).toBe(1);
      expect(bodies.map((x) => x.created).sort()).toEqual([false, true]);
      expect(bodies.every((x) => x.externalId === 'E2E-RACE')).toBe(true);
      expect(await images('E2E-RACE')).toBe(2);

      // "Create a new product per image": one creates it, the other is refused and leaves nothing.
      const created = await Promise.all([
        upload('create', 'E2E-RACE-NEW', 'E2E-RACE-NEW.png', a!),
        upload('create', 'E2E-RACE-NEW', 'E2E-RACE-NEW.png', c!),
      ]);
      expect(created.map((r) => r.status()).sort()).toEqual([200, 409]);
      const refused = (await created.find((r) => r.status() === 409)?.json()) as {
        error: string;
        code: string;
      };
      expect(refused.code).toBe('CONFLICT');
      expect(refused.error).toContain('"E2E-RACE-NEW" already exists');
      expect(await images('E2E-RACE-NEW')).toBe(1);
    });

    it('models: re-indexes colour-thumbnail-v1 with progress, switches to it and back, retires it', async () => {
      const colour = modelCard('colour-thumbnail-v1');
      const fashion = modelCard(SERVING);
      try {
        // One batch (32 images) goes through, then the re-index holds: half-way, on screen.
        stack.reindexGate.holdAfter(1);
        await page.getByRole('link', { name: 'Models' }).click();
        await page.waitForURL(/\/models$/);
        expect(await fashion.getAttribute('data-status')).toBe('ACTIVE');
        expect(await fashion.getByTestId('coverage-percent').textContent()).toBe('100.0%');
        expect(await colour.getAttribute('data-status')).toBe('AVAILABLE');
        expect(await colour.textContent()).toMatch(/48-d · loaded, runs on cpu/);
        await ready('section[data-model="colour-thumbnail-v1"] button');
        await colour.getByRole('button', { name: 'Start re-index' }).click();

        // The page refreshes itself while the re-index runs.
        await poll(() => colour.getByTestId('coverage-count').textContent()).toBe('32');
        expect(await colour.getAttribute('data-status')).toBe('BACKFILLING');
        await poll(async () =>
          ((await colour.getByTestId('reindex').textContent()) ?? '').replace(/\s+/g, ' '),
        ).toMatch(/running: 32 \/ \d+ \(32 this run, \d+ to go\).*images\/s · ETA \d+/);
        expect(await colour.getByRole('progressbar').getAttribute('aria-valuenow')).not.toBe('0');
        await shot('models', true);

        // Switching now needs force, and the page says the coverage plainly before.
        await colour.getByRole('button', { name: /^Switch now \(\d+\.\d% covered\)$/ }).click();
        const dialog = page.getByRole('dialog');
        expect(await dialog.getByTestId('force-coverage').textContent()).toMatch(
          /^colour-thumbnail-v1 has a vector of 32 of \d+ images \(\d+\.\d%\)\.$/,
        );
        await dialog.getByRole('button', { name: 'Cancel' }).click();
        expect(await servingModel()).toContain(SERVING);

        stack.reindexGate.open();
        await poll(() => colour.getAttribute('data-status')).toBe('READY');
        expect(await colour.getByTestId('coverage-percent').textContent()).toBe('100.0%');
        expect(await colour.getByTestId('reindex').textContent()).toMatch(/finished: \d+ embedded/);

        // Switch: the sidebar and the playground answer from the new model.
        await ready('section[data-model="colour-thumbnail-v1"] button');
        await colour.getByRole('button', { name: 'Switch to colour-thumbnail-v1' }).click();
        await poll(servingModel).toBe('model colour-thumbnail-v1 · 48-d · cpu');
        await poll(() => colour.getAttribute('data-status')).toBe('ACTIVE');
        expect(await fashion.getAttribute('data-status')).toBe('READY');
        expect(await colour.getByRole('status').textContent()).toBe(
          `colour-thumbnail-v1 serves every search now. ${SERVING} is kept in sync for switching back.`,
        );
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
        expect(await page.getByTestId('result-summary').textContent()).toContain(
          'colour-thumbnail-v1',
        );
        expect(await page.locator('.hit').first().getAttribute('data-external-id')).toBe('E2E-002');

        // Switch back: instant, the fashion model was kept in sync.
        await page.getByRole('link', { name: 'Models' }).click();
        await page.waitForURL(/\/models$/);
        await ready('button');
        await page.getByRole('button', { name: `Switch back to ${SERVING}` }).click();
        await poll(servingModel).toBe(`model ${SERVING} · ${SERVING_DIMS}-d · cpu`);
        const { data } = await stack.client.query<{ viewer: { model: { key: string } } }>(
          `{ viewer { model { key } } }`,
        );
        expect(data?.viewer.model.key).toBe(SERVING);

        // Retire, after confirming: its vectors are gone.
        await poll(() => colour.getAttribute('data-status')).toBe('READY');
        await ready('button[aria-label="Retire colour-thumbnail-v1"]');
        await colour.getByRole('button', { name: 'Retire colour-thumbnail-v1' }).click();
        await page.getByRole('dialog').getByRole('button', { name: 'Retire model' }).click();
        await poll(() => colour.getAttribute('data-status')).toBe('RETIRED');
        expect(await colour.getByTestId('coverage-count').textContent()).toBe('0');
      } finally {
        stack.reindexGate.open();
      }
    });

    it('models: forces a switch at partial coverage after saying so, and switches back', async () => {
      const colour = modelCard('colour-thumbnail-v1');
      try {
        stack.reindexGate.holdAfter(1);
        await ready('section[data-model="colour-thumbnail-v1"] button');
        await colour.getByRole('button', { name: 'Start re-index' }).click();
        await poll(() => colour.getByTestId('coverage-count').textContent()).toBe('32');
        await colour.getByRole('button', { name: /^Switch now \(\d+\.\d% covered\)$/ }).click();
        await page.getByRole('dialog').getByRole('button', { name: 'Switch anyway' }).click();
        await poll(servingModel).toContain('colour-thumbnail-v1');
        expect(await colour.getByRole('status').textContent()).toMatch(
          /^colour-thumbnail-v1 serves every search now, forced at \d+\.\d% coverage\./,
        );
        // It serves and goes on re-indexing; once through, it covers the catalog.
        expect(await colour.getAttribute('data-status')).toBe('ACTIVE');
        stack.reindexGate.open();
        await poll(() => colour.getByTestId('coverage-percent').textContent()).toBe('100.0%');
        await page.getByRole('button', { name: `Switch back to ${SERVING}` }).click();
        await poll(servingModel).toContain(SERVING);
        await poll(() => colour.getAttribute('data-status')).toBe('READY');
      } finally {
        stack.reindexGate.open();
      }
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

    it('models: a key without SETTINGS_WRITE sees them read-only', async () => {
      const { data } = await stack.client.query<{ createApiKey: { secret: string } }>(
        `mutation { createApiKey(name: "e2e reader", scopes: [SEARCH]) { secret } }`,
      );
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.waitForURL(/\/signin$/);
      await signIn(data?.createApiKey.secret ?? '');
      await page.goto(url('/models'));
      await modelCard('colour-thumbnail-v1').waitFor();
      expect(await page.locator('.alert.warn').textContent()).toContain('no SETTINGS_WRITE scope');
      expect(await page.locator('main button').count()).toBe(0);
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.waitForURL(/\/signin$/);
      await signIn(stack.key);
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
      // The catalog's thumbnails are loaded through the dashboard from the API: let them finish
      // first, or one cut off by the shutdown is a 502 from the image route (right, since its
      // upstream is gone) and not the error of a page this test looks for.
      await page.waitForLoadState('networkidle');
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
