import type { ClaimedDelivery, Db } from '@lookalike/db';
import { signWebhook } from './signing.js';

/** What sends one delivery: the SSRF-safe client's `post`. */
export type WebhookPost = (
  url: string,
  body: string,
  headers: Record<string, string>,
) => Promise<{ status: number }>;

export interface DispatcherOptions {
  /** How often due deliveries are looked for (default 1 s). */
  intervalMs?: number;
  /** Deliveries claimed per round (default 20). */
  batchSize?: number;
  /** How long a claim holds before another worker may take it (default 60 s: > the post timeout). */
  leaseMs?: number;
  /**
   * Attempts before a delivery is FAILED (default 10: the last one about 4 hours after the
   * first with the default base, long enough to ride out a receiver's deploy or outage).
   */
  maxAttempts?: number;
  /** The first retry's delay; each next one doubles, with jitter (default 30 s). */
  backoffBaseMs?: number;
  /** No retry waits longer than this (default 6 h). */
  maxBackoffMs?: number;
  log?: (message: string) => void;
  random?: () => number;
}

/**
 * The delay before attempt `attempt + 1`: exponential from `base`, capped, with "equal jitter"
 * (half fixed, half random) so endpoints that failed together do not all retry together.
 */
export function retryDelayMs(attempt: number, base: number, max: number, random = Math.random) {
  const exp = Math.min(max, base * 2 ** Math.max(0, attempt - 1));
  return Math.round(exp / 2 + (random() * exp) / 2);
}

/**
 * Sends the outbox: claims due deliveries (a lease, so any number of workers share them),
 * signs each per Standard Webhooks and posts it; 2xx is delivered, anything else is retried
 * later with backoff until `maxAttempts`. The webhook-id is the event's id on every attempt,
 * so a receiver can drop a repeat (a worker that died between the receiver's 200 and recording
 * it is the one case that repeats a delivery).
 */
export class WebhookDispatcher {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private readonly o: Required<Omit<DispatcherOptions, 'log' | 'random'>>;
  private readonly log: (message: string) => void;
  private readonly random: () => number;

  constructor(
    private readonly db: Db,
    private readonly post: WebhookPost,
    options: DispatcherOptions = {},
  ) {
    this.o = {
      intervalMs: options.intervalMs ?? 1000,
      batchSize: options.batchSize ?? 20,
      leaseMs: options.leaseMs ?? 60_000,
      maxAttempts: options.maxAttempts ?? 10,
      backoffBaseMs: options.backoffBaseMs ?? 30_000,
      maxBackoffMs: options.maxBackoffMs ?? 6 * 3600_000,
    };
    this.log = options.log ?? (() => undefined);
    this.random = options.random ?? Math.random;
  }

  start(): void {
    const tick = () => {
      if (this.stopped) return;
      this.running = this.runOnce()
        .then(() => undefined)
        .catch((error: unknown) => {
          this.log(`[webhooks] ${error instanceof Error ? error.message : String(error)}`);
        })
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, this.o.intervalMs);
        });
    };
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /** One round: claim what is due and send it; returns how many were attempted. */
  async runOnce(): Promise<number> {
    let total = 0;
    for (;;) {
      const claimed = await this.db.webhooks.claimDue(this.o.batchSize, this.o.leaseMs);
      await Promise.all(claimed.map((d) => this.deliver(d)));
      total += claimed.length;
      if (claimed.length < this.o.batchSize || this.stopped) return total;
    }
  }

  private async deliver(d: ClaimedDelivery): Promise<void> {
    const body = JSON.stringify({
      type: d.type,
      timestamp: d.eventCreatedAt.toISOString(),
      data: d.payload,
    });
    const headers = {
      'content-type': 'application/json',
      ...signWebhook(d.secret, d.eventId, new Date(), body),
    };
    let status: number | null = null;
    let error: string;
    try {
      status = (await this.post(d.url, body, headers)).status;
      if (status >= 200 && status < 300) {
        await this.db.webhooks.markDelivered(d.id, status);
        return;
      }
      error = `the endpoint answered ${status}`;
    } catch (e) {
      // The client throws for a non-2xx answer too; its status is what the endpoint said.
      const answered = (e as { status?: unknown }).status;
      if (typeof answered === 'number') status = answered;
      error = e instanceof Error ? e.message : String(e);
    }
    const retryAt =
      d.attempts >= this.o.maxAttempts
        ? null
        : new Date(
            Date.now() +
              retryDelayMs(d.attempts, this.o.backoffBaseMs, this.o.maxBackoffMs, this.random),
          );
    await this.db.webhooks.markAttemptFailed(d.id, { status, error, retryAt });
    this.log(
      `[webhooks] ${d.type} to ${d.url}: ${error}` +
        (retryAt
          ? `; retry at ${retryAt.toISOString()}`
          : `; gave up after ${d.attempts} attempts`),
    );
  }
}
