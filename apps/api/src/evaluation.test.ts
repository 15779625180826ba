// Catalog evaluations as jobs: queued by startCatalogEvaluation under the EVALUATE scope, run by
// a worker off the request path with progress, one queued or running per merchant at a time.
import { seedDemoCatalog } from '@lookalike/core';
import { testEngines } from '@lookalike/db';
import type { GraphQLClient } from '@lookalike/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './testing/server.js';

const JOB_FIELDS = `id status model metrics relevance sampleSize depth done total error
  createdAt startedAt finishedAt`;
const START = `mutation ($metrics: [SimilarityMetric!], $relevance: Relevance, $sampleSize: Int, $depth: Int) {
  startCatalogEvaluation(metrics: $metrics, relevance: $relevance, sampleSize: $sampleSize, depth: $depth) { ${JOB_FIELDS} }
}`;
const GET = `query ($id: ID!) {
  catalogEvaluation(id: $id) {
    ${JOB_FIELDS}
    results {
      metric relevance model depth pairs relevantPairs map mapAtR
      sample { sampled population queries seed }
      recallAtK { k value }
      prCurve { threshold precision recall f1 predictedPositives }
      histogram { edges relevant irrelevant }
      recommended { bestF1 { threshold f1 } }
    }
  }
}`;

interface Job {
  id: string;
  status: string;
  metrics: string[];
  done: number;
  total: number;
  error: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  results: {
    metric: string;
    map: number;
    relevantPairs: number;
    sample: { population: number; queries: number };
    recallAtK: { k: number; value: number }[];
    prCurve: unknown[];
    histogram: { edges: number[]; relevant: number[] };
    recommended: { bestF1: { f1: number } | null };
  }[];
}

async function keyWith(t: TestServer, scopes: string[]): Promise<GraphQLClient> {
  const created = await t.client.query<{ createApiKey: { secret: string } }>(
    `mutation ($scopes: [ApiScope!]!) { createApiKey(name: "scoped", scopes: $scopes) { secret } }`,
    { scopes },
  );
  const secret = created.data?.createApiKey.secret;
  if (!secret) throw new Error(JSON.stringify(created.errors));
  return t.client.withKey(secret);
}

async function finished(client: GraphQLClient, id: string): Promise<{ job: Job; seen: Job[] }> {
  const seen: Job[] = [];
  for (let i = 0; i < 600; i++) {
    const res = await client.query<{ catalogEvaluation: Job }>(GET, { id });
    const job = res.data?.catalogEvaluation;
    if (!job) throw new Error(JSON.stringify(res.errors));
    seen.push(job);
    if (job.status === 'COMPLETED' || job.status === 'FAILED') return { job, seen };
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`evaluation ${id} did not finish`);
}

describe.each(testEngines())('catalog evaluations as jobs ($name)', (engine) => {
  let t: TestServer;

  beforeAll(async () => {
    t = await startTestServer(
      engine,
      { WORKER: 'on' },
      { worker: { pollingIntervalSeconds: 0.5 } },
    );
    await seedDemoCatalog(t.server.core.catalog, t.server.bootstrap.merchantId, {
      count: 60,
      extraPhotoShare: 0.5,
    });
  }, 180_000);

  afterAll(async () => {
    await t.stop();
  });

  it('runs both metrics on one sample on a worker, with progress, to the same figures as before', async () => {
    const started = await t.client.query<{ startCatalogEvaluation: Job }>(START, {
      metrics: ['COSINE', 'EUCLIDEAN'],
      sampleSize: 100,
    });
    expect(started.errors).toBeUndefined();
    const queued = started.data?.startCatalogEvaluation;
    expect(queued).toMatchObject({ status: 'QUEUED', done: 0, total: 200, startedAt: null });
    const { job, seen } = await finished(t.client, queued?.id ?? '');
    expect(job.status, job.error ?? '').toBe('COMPLETED');
    expect(job.metrics).toEqual(['COSINE', 'EUCLIDEAN']);
    expect(job.results.map((r) => r.metric)).toEqual(['COSINE', 'EUCLIDEAN']);
    // Every eligible image was a query (fewer than 100 have a second photo), once per metric.
    const queries = job.results[0]?.sample.queries ?? 0;
    expect(job.results[1]?.sample.queries).toBe(queries);
    expect([job.done, job.total]).toEqual([2 * queries, 2 * queries]);
    expect(seen.every((s, i) => i === 0 || s.done >= (seen[i - 1]?.done ?? 0))).toBe(true);
    for (const r of job.results) {
      expect(r.sample.population).toBeGreaterThan(5);
      expect(r.relevantPairs).toBeGreaterThan(0);
      expect(r.recallAtK.find((x) => x.k === 10)?.value).toBeGreaterThan(0.8);
      expect(r.map).toBeGreaterThan(0.5);
      expect(r.prCurve.length).toBeGreaterThan(10);
      expect(r.histogram.edges.length).toBe(r.histogram.relevant.length + 1);
      expect(r.recommended.bestF1?.f1).toBeGreaterThan(0.3);
    }
    const list = await t.client.query<{ catalogEvaluations: { nodes: { id: string }[] } }>(
      `{ catalogEvaluations(first: 5) { nodes { id } } }`,
    );
    expect(list.data?.catalogEvaluations.nodes.map((n) => n.id)).toEqual([job.id]);
  }, 180_000);

  it('needs EVALUATE: a SEARCH key (a storefront) can no longer run one', async () => {
    const search = await keyWith(t, ['SEARCH']);
    const refused = await search.query(START, {});
    expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const evaluate = await keyWith(t, ['EVALUATE']);
    const allowed = await evaluate.query<{ startCatalogEvaluation: Job }>(START, {
      sampleSize: 10,
      relevance: 'CATEGORY',
    });
    expect(allowed.errors).toBeUndefined();
    const { job } = await finished(evaluate, allowed.data?.startCatalogEvaluation.id ?? '');
    expect(job.status).toBe('COMPLETED');
    // The merchant's metric, as no metric was asked.
    expect(job.metrics).toEqual(['COSINE']);
  }, 120_000);

  it('checks its arguments before queueing anything', async () => {
    for (const [vars, field] of [
      [{ sampleSize: 0 }, 'sampleSize'],
      [{ sampleSize: 2001 }, 'sampleSize'],
      [{ depth: 201 }, 'depth'],
      [{ metrics: ['COSINE', 'COSINE'] }, 'metrics'],
    ] as const) {
      const res = await t.client.query(START, vars);
      expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    }
    const unknown = await t.client.query(GET, { id: '01900000-0000-7000-8000-000000000000' });
    expect(unknown.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const list = await t.client.query<{ catalogEvaluations: { nodes: unknown[] } }>(
      `{ catalogEvaluations { nodes { id } } }`,
    );
    expect(list.data?.catalogEvaluations.nodes).toHaveLength(2);
  });
});

describe.each(testEngines())('one evaluation per merchant at a time ($name)', (engine) => {
  // No worker: what is queued stays queued, so the refusals do not depend on timing.
  let t: TestServer;

  beforeAll(async () => {
    t = await startTestServer(engine, { WORKER: 'off' });
    await seedDemoCatalog(t.server.core.catalog, t.server.bootstrap.merchantId, {
      count: 10,
      extraPhotoShare: 0.5,
    });
  }, 180_000);

  afterAll(async () => {
    await t.stop();
  });

  it('eight aliased evaluations in one request queue one; the next is CONFLICT naming it', async () => {
    const aliases = Array.from(
      { length: 8 },
      (_, i) =>
        `e${i}: startCatalogEvaluation(sampleSize: 2000, depth: 200, metrics: [COSINE, EUCLIDEAN]) { id status }`,
    );
    const res = await t.client.query(`mutation { ${aliases.join('\n')} }`);
    // Mutation fields run in order and the field is non-null: the first refusal nulls the
    // answer's data and ends the request. The database has what was queued.
    const queued = await t.db.evaluations.list(t.server.bootstrap.merchantId, { first: 10 });
    expect(queued.items.map((j) => j.status)).toEqual(['QUEUED']);
    expect(res.errors?.map((e) => e.extensions?.code)).toEqual(['CONFLICT']);
    for (const e of res.errors ?? []) {
      expect(e.extensions).toMatchObject({ code: 'CONFLICT' });
      expect(e.message).toContain(queued.items[0]?.id);
    }

    // Later requests too, until it finishes.
    const again = await t.client.query(`mutation { startCatalogEvaluation { id } }`);
    expect(again.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    expect(await t.db.evaluations.list(t.server.bootstrap.merchantId, { first: 10 })).toMatchObject(
      { items: [{ status: 'QUEUED' }] },
    );
  });

  it("another merchant's evaluation is its own: not blocked, and not visible", async () => {
    const created = await t.client.query<{ createMerchant: { secret: string } }>(
      `mutation { createMerchant(name: "Shop B") { secret } }`,
    );
    const b = t.client.withKey(created.data?.createMerchant.secret);
    const started = await b.query<{ startCatalogEvaluation: { id: string } }>(
      `mutation { startCatalogEvaluation { id } }`,
    );
    expect(started.errors).toBeUndefined();
    const mine = await t.db.evaluations.list(t.server.bootstrap.merchantId, { first: 10 });
    const seen = await t.client.query(GET, { id: started.data?.startCatalogEvaluation.id });
    expect(seen.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(mine.items).toHaveLength(1);
  });
});
