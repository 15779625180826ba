// Debian's Chromium for the dashboard's browser tests, through playwright-core (which downloads
// nothing): one way to launch it, and one record of what goes wrong on a page.
import { existsSync } from 'node:fs';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const haveChromium = existsSync(CHROMIUM);

/** Headless, quiet (no sync, updates or background requests), in its own profile folder. */
export function launchChromium(
  profile: string,
  options: Parameters<typeof chromium.launchPersistentContext>[1] = {},
): Promise<BrowserContext> {
  return chromium.launchPersistentContext(profile, {
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
    ...options,
  });
}

/**
 * Pushes onto `errors` what a page should never show: uncaught exceptions, console errors and
 * 5xx answers. 4xx answers the tests provoke (a bad upload) are logged as failed loads; server
 * errors are caught by status instead.
 */
export function recordPageErrors(page: Page, errors: string[]): void {
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource'))
      errors.push(m.text());
  });
  page.on('response', (r) => {
    if (r.status() >= 500) errors.push(`${r.status()} from ${r.url()}`);
  });
}
