import { createDb, IN_MEMORY, type Db } from '@lookalike/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { retryDelayMs, WebhookDispatcher, type WebhookPost } from './dispatcher.js';
import { verifyWebhook } from './signing.js';
import { WebhookService } from './webhook.service.js';

describe('retryDelayMs', () => {
  it('doubles from the base, capped, with half of it random', () => {
    expect(retryDelayMs(1, 1000, 60_000, () => 0)).toBe(500);
    expect(retryDelayMs(1, 1000, 60_000, () => 1)).toBe(1000);
    expect(retryDelayMs(4, 1000, 60_000, () => 1)).toBe(8000);
    expect(retryDelayMs(20, 1000, 60_000, () => 1)).toBe(60_000);
  });
});

describe('WebhookDispatcher', () => {
  let db: Db;
  let merchantId: string;
  let service: WebhookService;

  beforeAll(async () => {
    db = await createDb({ dataDir: IN_MEMORY, migrate: true });
    merchantId = (await db.merchants.create('Shop')).id;
    service = new WebhookService(db);
  }, 120_000);

  afterAll(async () => {
    await db.close();
  });

  const due = () => db.prisma.webhookDelivery.updateMany({ data: { nextAttemptAt: new Date(0) } });

  it('signs and posts a delivery, records a refusal with its status and retries it later', async () => {
    const { endpoint, secret } = await service.create(merchantId, {
      url: 'https://shop.example/a',
      events: ['import.completed'],
    });
    await db.webhooks.emit(merchantId, 'import.completed', { jobId: 'j1' });
    const calls: { body: string; headers: Record<string, string> }[] = [];
    const answers = [500, 200];
    const post: WebhookPost = (_url, body, headers) => {
      calls.push({ body, headers });
      const status = answers.shift() ?? 200;
      if (status >= 300)
        return Promise.reject(Object.assign(new Error(`answered ${status}`), { status }));
      return Promise.resolve({ status });
    };
    const dispatcher = new WebhookDispatcher(db, post, { backoffBaseMs: 60_000 });
    expect(await dispatcher.runOnce()).toBe(1);
    let [d] = (await service.deliveries(merchantId, endpoint.id, {})).items;
    expect(d).toMatchObject({ status: 'PENDING', attempts: 1, lastStatus: 500 });
    expect(d!.nextAttemptAt.getTime()).toBeGreaterThan(Date.now() + 20_000);
    // Not due yet: nothing is sent.
    expect(await dispatcher.runOnce()).toBe(0);
    await due();
    expect(await dispatcher.runOnce()).toBe(1);
    [d] = (await service.deliveries(merchantId, endpoint.id, {})).items;
    expect(d).toMatchObject({ status: 'DELIVERED', attempts: 2, lastStatus: 200 });
    // Both attempts carry the event's id and verify with the endpoint's secret.
    expect(calls[0]!.headers['webhook-id']).toBe(calls[1]!.headers['webhook-id']);
    expect(verifyWebhook(secret, calls[1]!.body, calls[1]!.headers)).toMatchObject({
      type: 'import.completed',
      data: { jobId: 'j1' },
    });
  });

  it('gives up after the last attempt, and sends nothing for events nobody subscribed to', async () => {
    const { endpoint } = await service.create(merchantId, {
      url: 'https://shop.example/b',
      events: ['image.failed'],
    });
    expect(await db.webhooks.emit(merchantId, 'model.switched', {})).toBeNull();
    await db.webhooks.emit(merchantId, 'image.failed', { row: 1 });
    const post: WebhookPost = () => Promise.reject(new Error('connection refused'));
    const dispatcher = new WebhookDispatcher(db, post, { maxAttempts: 2, backoffBaseMs: 1 });
    await dispatcher.runOnce();
    await due();
    await dispatcher.runOnce();
    const [d] = (await service.deliveries(merchantId, endpoint.id, {})).items;
    expect(d).toMatchObject({ status: 'FAILED', attempts: 2, lastError: 'connection refused' });
  });

  it('refuses bad endpoints at the edge', async () => {
    for (const [url, events] of [
      ['ftp://x.example/', ['import.completed']],
      ['https://user:pw@x.example/', ['import.completed']],
      ['not a url', ['import.completed']],
      ['https://x.example/', []],
      ['https://x.example/', ['import.started']],
    ] as const) {
      await expect(service.create(merchantId, { url, events: [...events] })).rejects.toThrow();
    }
  });
});
