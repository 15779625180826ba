// The Webhooks page's rules: how often the page looks again while a delivery is pending. Pure:
// shared by the server page and the browser.
import type { WebhookDelivery } from './types';

/** A delivery due this soon is watched closely: a test event, a retry about to go. */
export const SOON_MS = 60_000;
/** How often the page refreshes while a delivery is due soon: about the dispatcher's round. */
export const WATCH_MS = 1000;
/** How often while pending deliveries wait on later retries (backoff from 30 s to hours). */
export const WAIT_MS = 15_000;

/**
 * How often the page refreshes itself (ms): every second while a pending delivery is due within
 * a minute, every 15 s while pending ones wait for later retries; null when none is pending.
 */
export function refreshEveryMs(
  deliveries: readonly Pick<WebhookDelivery, 'status' | 'nextAttemptAt'>[],
  now: number,
): number | null {
  const pending = deliveries.filter((d) => d.status === 'PENDING');
  if (pending.length === 0) return null;
  const soon = pending.some((d) => new Date(d.nextAttemptAt).getTime() - now <= SOON_MS);
  return soon ? WATCH_MS : WAIT_MS;
}
