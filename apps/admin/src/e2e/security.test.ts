// The dashboard's defences in a real browser (Debian's Chromium through playwright-core) against
// the real API, started here: sign-out ends the session on the server (a copy of the cookie
// taken before stops working), every response carries the security headers, the whole
// dashboard works under its Content Security Policy, and no other site can frame it.
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { COLOURS, readFashionSample, renderCatalogImage } from '@lookalike/core';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, haveChromium, launchChromium } from '../testing/browser';
import { freePort } from '@lookalike/vitest-config';
import { ADMIN_DIR, REPO_ROOT, startStack, type Stack } from '../testing/stack';

// Browser globals for the one line that runs in the page (no DOM lib here: dashboard.test.ts).
declare const document: {
  images: Iterable<{ complete: boolean; naturalWidth: number }>;
  addEventListener(
    type: 'securitypolicyviolation',
    listener: (e: { violatedDirective: string; blockedURI: string }) => void,
  ): void;
};

const SESSION_COOKIE = 'lk_admin_session';
/** Waits for what the page will show; no time is asserted, the limit only stops a hung run. */
const poll = <T>(fn: () => Promise<T> | T) => expect.poll(fn, { timeout: 60_000, interval: 100 });

if (!haveChromium && !process.env.CI) {
  console.warn(
    `Skipping the dashboard's security browser tests: no Chromium at ${CHROMIUM} (apt-get install chromium). In CI they fail instead.`,
  );
}

/** The directives of a Content-Security-Policy header, by name. */
function directives(csp: string | null): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const part of (csp ?? '').split(';')) {
    const [name, ...values] = part.trim().split(/\s+/);
    if (name) out.set(name.toLowerCase(), values);
  }
  return out;
}

/** What every answer of the dashboard must carry, whatever it is. */
function expectSecurityHeaders(res: Response, what: string): void {
  const csp = directives(res.headers.get('content-security-policy'));
  expect(csp.get('frame-ancestors'), `${what}: frame-ancestors`).toEqual(["'none'"]);
  expect(csp.get('object-src'), `${what}: object-src`).toEqual(["'none'"]);
  expect(res.headers.get('x-frame-options'), `${what}: X-Frame-Options`).toBe('DENY');
  expect(res.headers.get('x-content-type-options'), `${what}: nosniff`).toBe('nosniff');
  expect(res.headers.get('referrer-policy'), `${what}: Referrer-Policy`).toBe('same-origin');
}

async function listen(server: http.Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe.runIf(haveChromium || process.env.CI)(
  'dashboard security in Chromium',
  { timeout: 240_000 },
  () => {
    let stack: Stack;
    let context: BrowserContext;
    let page: Page;
    let profile: string;
    /** Another site on loopback (another port: another origin) that tries to frame the dashboard. */
    let framer: http.Server;
    let framerUrl: string;
    const pageErrors: string[] = [];
    const violations: string[] = [];

    const url = (p: string) => `${stack.adminUrl}${p}`;
    /** A request as any client could send it, with the cookie a browser once held. */
    const replay = (p: string, cookie: string) =>
      fetch(url(p), { headers: { cookie: `${SESSION_COOKIE}=${cookie}` }, redirect: 'manual' });
    const sessionCookie = async () =>
      (await context.cookies()).find((c) => c.name === SESSION_COOKIE)?.value;

    beforeAll(async () => {
      if (!haveChromium)
        throw new Error(
          `CI needs Debian's Chromium at ${CHROMIUM} for the dashboard's browser tests: apt-get install chromium (see .ci/run).`,
        );
      stack = await startStack({ products: 6 });
      framer = http.createServer((req, res) => {
        const target = new URL(req.url ?? '/', 'http://x').searchParams.get('src') ?? '/';
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end(
          `<!doctype html><title>Another site</title><iframe id="victim" src="${stack.adminUrl}${target}" width="800" height="600"></iframe>`,
        );
      });
      framerUrl = await listen(framer);
      profile = await mkdtemp(path.join(tmpdir(), 'lookalike-chromium-'));
      context = await launchChromium(profile, {
        viewport: { width: 1280, height: 900 },
      });
      // Every blocked script, style, image or request is reported on the document; the init
      // script runs before the page's own scripts (through the DevTools protocol, not the page).
      await context.addInitScript(() => {
        document.addEventListener('securitypolicyviolation', (e) => {
          console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI}`);
        });
      });
      page = context.pages()[0] ?? (await context.newPage());
      page.setDefaultTimeout(60_000);
      page.on('pageerror', (e) => pageErrors.push(e.message));
      page.on('console', (m) => {
        if (m.type() !== 'error') return;
        if (/Content Security Policy|CSP violation/.test(m.text())) violations.push(m.text());
        else if (!m.text().startsWith('Failed to load resource')) pageErrors.push(m.text());
      });
      page.on('response', (r) => {
        if (r.status() >= 500) pageErrors.push(`${r.status()} from ${r.url()}`);
      });
    }, 1_800_000);

    afterEach(({ task }) => {
      if (task.result?.state === 'fail')
        console.error(`Dashboard log:\n${stack.adminLog.join('').slice(-3000)}`);
    });

    afterAll(async () => {
      // Unset when beforeAll failed part-way.
      /* eslint-disable @typescript-eslint/no-unnecessary-condition */
      await context?.close();
      if (framer) await new Promise((r) => framer.close(r));
      await stack?.stop();
      /* eslint-enable @typescript-eslint/no-unnecessary-condition */
      if (profile) await rm(profile, { recursive: true, force: true });
    });

    it('refuses to start with a bad environment, naming the variable, exit 1', async () => {
      // The build the stack made; a second `next start` beside it, with a secret too short.
      const child = spawn(
        process.execPath,
        [
          path.join(REPO_ROOT, 'node_modules', 'next', 'dist', 'bin', 'next'),
          'start',
          '-p',
          String(await freePort()),
          '-H',
          '127.0.0.1',
        ],
        {
          cwd: ADMIN_DIR,
          env: {
            PATH: process.env.PATH,
            NODE_ENV: 'production',
            NEXT_TELEMETRY_DISABLED: '1',
            API_URL: stack.apiUrl,
            DATA_DIR: stack.adminDataDir,
            ADMIN_SESSION_SECRET: 'too short',
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      // Bounded only so a server that keeps going fails the test instead of hanging it.
      const bound = setTimeout(() => child.kill('SIGKILL'), 60_000);
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      clearTimeout(bound);
      expect(code, out).toBe(1);
      expect(out).toContain('ADMIN_SESSION_SECRET: must be at least 32 characters');
    });

    it('sends the security headers on pages, route handlers and static files', async () => {
      const signin = await fetch(url('/signin'));
      expect(signin.status).toBe(200);
      expectSecurityHeaders(signin, 'the sign-in page');
      expect(signin.headers.get('content-security-policy')).not.toContain(',');
      const csp = directives(signin.headers.get('content-security-policy'));
      // Scripts run by a nonce fresh for every page, and the page's own scripts carry it.
      const nonce = csp
        .get('script-src')
        ?.find((s) => s.startsWith("'nonce-"))
        ?.slice(7, -1);
      expect(nonce).toMatch(/^[A-Za-z0-9+/=_-]{16,}$/);
      const html = await signin.text();
      const scripts = [...html.matchAll(/<script\b[^>]*>/g)].map((m) => m[0]);
      expect(scripts.length).toBeGreaterThan(0);
      for (const tag of scripts) expect(tag).toContain(`nonce="${nonce}"`);
      const again = directives(
        (await fetch(url('/signin'))).headers.get('content-security-policy'),
      );
      expect(again.get('script-src')).not.toContain(`'nonce-${nonce}'`);
      expect(csp.get('script-src')).not.toContain("'unsafe-inline'");
      expect(csp.get('connect-src')).toEqual(["'self'"]);

      // A page that sends the visitor elsewhere, a route handler's refusal and its answer.
      const catalog = await fetch(url('/catalog'), { redirect: 'manual' });
      expect(catalog.headers.get('location')).toMatch(/\/signin$/);
      expectSecurityHeaders(catalog, 'the redirect to sign in');
      const image = await fetch(url(`/images/${'0'.repeat(64)}?w=64`));
      expect(image.status).toBe(401);
      expectSecurityHeaders(image, 'the image route');
      const job = await fetch(url('/api/import/nope'));
      expect(job.status).toBe(401);
      expectSecurityHeaders(job, 'the import route');
      // Route handlers and server actions skip the proxy (it would buffer their bodies: the
      // 16 MB import in sync.test.ts) and get a fixed policy instead, exactly one.
      expect(job.headers.get('content-security-policy')).toMatch(/^default-src 'none';[^,]*$/);
      const upload = await fetch(url('/api/search'), { method: 'POST', body: new FormData() });
      expect(upload.status).toBe(401);
      expectSecurityHeaders(upload, 'a post to a route handler');
      const action = await fetch(url('/signin'), {
        method: 'POST',
        headers: { 'next-action': '0'.repeat(42) },
        body: '[]',
      });
      expectSecurityHeaders(action, 'a server action');
      expect(action.headers.get('content-security-policy')).toMatch(/^default-src 'none';[^,]*$/);
      const missing = await fetch(url('/no-such-page'));
      expect(missing.status).toBe(404);
      expectSecurityHeaders(missing, 'a missing page');

      // Static files: the page's script bundles and the icon.
      const chunk = /<script\b[^>]*\bsrc="(\/_next\/static\/[^"]+\.js)"/.exec(html)?.[1];
      expect(chunk).toBeDefined();
      const js = await fetch(url(chunk ?? ''));
      expect(js.status).toBe(200);
      expectSecurityHeaders(js, 'a script bundle');
      const icon = await fetch(url('/icon.svg'));
      expect(icon.status).toBe(200);
      expectSecurityHeaders(icon, 'the icon');
    });

    it('works under its policy: every page renders and hydrates with no CSP violation', async () => {
      await page.goto(url('/signin'));
      await page.getByLabel('API key').fill(stack.key);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL(/\/catalog$/);
      // Thumbnails come through the image route (img-src 'self').
      await poll(() =>
        page.evaluate(
          () => [...document.images].filter((i) => i.complete && i.naturalWidth > 0).length,
        ),
      ).toBeGreaterThan(0);
      // Client-side navigation through the sidebar (scripts loaded under 'strict-dynamic').
      for (const [label, path_, widget] of [
        ['Upload', '/upload', '.dropzone'],
        ['Import', '/import', '.dropzone'],
        ['Search playground', '/search', '.dropzone'],
        ['Tuning studio', '/tuning', 'main'],
        ['Models', '/models', 'main'],
        ['Webhooks', '/webhooks', 'main'],
        ['API keys', '/keys', 'form'],
      ] as const) {
        await page
          .getByRole('navigation', { name: 'Dashboard' })
          .getByRole('link', { name: label })
          .click();
        await page.waitForURL(new RegExp(`${path_}$`));
        await page.locator(widget).first().waitFor();
      }
      // A full load of a page with a hydrated widget, then a search: the photo's preview is a
      // blob: URL, the search a fetch to the dashboard's own route handler (connect-src 'self').
      await page.goto(url('/search'));
      await page.locator('.dropzone[data-ready]').first().waitFor();
      const sample = await readFashionSample();
      const photo = await renderCatalogImage(
        sample.images[3] as Uint8Array,
        COLOURS[2] as (typeof COLOURS)[number],
      );
      await page
        .getByTestId('file-input')
        .first()
        .setInputFiles({ name: 'photo.png', mimeType: 'image/png', buffer: photo });
      await page.getByTestId('result-summary').waitFor();
      expect(await page.locator('.hit').count()).toBeGreaterThan(0);

      expect(violations).toEqual([]);
      expect(pageErrors).toEqual([]);
    });

    it('cannot be framed by another site, even with the session cookie in the browser', async () => {
      const other = await context.newPage();
      const messages: string[] = [];
      other.on('console', (m) => messages.push(m.text()));
      await other.goto(`${framerUrl}/?src=/catalog`);
      const frame = await (await other.locator('#victim').elementHandle()).contentFrame();
      if (!frame) throw new Error('the other site has no frame');
      await frame.waitForLoadState();
      // Chromium replaces a refused frame's document with its own error page.
      expect(frame.url()).not.toContain(stack.adminUrl);
      expect(await frame.locator('text=Lookalike').count()).toBe(0);
      await poll(() => messages.join('\n')).toMatch(/frame-ancestors|X-Frame-Options/);
      await other.close();
    });

    it('ends the session on the server at sign-out: a copy of the cookie taken before is refused', async () => {
      await page.goto(url('/catalog'));
      const cookie = await sessionCookie();
      expect(cookie).toBeTruthy();
      const stolen = cookie ?? '';
      const sha = /\/images\/([0-9a-f]{64})/.exec(
        await (await replay('/catalog', stolen)).text(),
      )?.[1];
      expect(sha).toMatch(/^[0-9a-f]{64}$/);
      // The copy works while the session lasts: a page, an image, a route handler.
      expect((await replay('/catalog', stolen)).status).toBe(200);
      const image = await replay(`/images/${sha}?w=64`, stolen);
      expect(image.status).toBe(200);
      expectSecurityHeaders(image, 'an image');
      // (The API refuses the made-up job: the session itself was accepted.)
      expect((await replay('/api/import/nope', stolen)).status).not.toBe(401);

      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.waitForURL(/\/signin$/);
      expect(await sessionCookie()).toBeUndefined();

      for (const p of ['/catalog', '/keys', '/search']) {
        const res = await replay(p, stolen);
        expect(res.status, p).toBe(307);
        expect(res.headers.get('location'), p).toMatch(/\/signin$/);
      }
      expect((await replay(`/images/${sha}?w=64`, stolen)).status).toBe(401);
      expect((await replay('/api/import/nope', stolen)).status).toBe(401);
      const search = await fetch(url('/api/search'), {
        method: 'POST',
        headers: { cookie: `${SESSION_COOKIE}=${stolen}` },
        body: new FormData(),
      });
      expect(search.status).toBe(401);
      // Nothing of the session is kept on the server.
      expect(await readdir(path.join(stack.adminDataDir, 'admin-sessions'))).toHaveLength(0);

      // Signing in again opens a new session; the old copy stays dead.
      await page.getByLabel('API key').fill(stack.key);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL(/\/catalog$/);
      expect((await replay('/catalog', stolen)).status).toBe(307);
      expect((await replay('/catalog', (await sessionCookie()) ?? '')).status).toBe(200);
      expect(violations).toEqual([]);
      expect(pageErrors).toEqual([]);
    });
  },
);
