// Catalog evaluations off the request path: how fast the API answers while the largest
// evaluation it allows (2,000 sampled images x 200 neighbours x both metrics) runs on the
// worker, against the same probes with nothing running. The probes are a stored-image search
// (similarProducts(imageId:), database work only) and /readyz, one after another.
//
//   npm run bench:evaluation     BENCH_PRODUCTS (default 1000), BENCH_DATABASE_URL (native)
import { performance } from 'node:perf_hooks';
import { seedDemoCatalog } from '@lookalike/core';
import { createClient } from '@lookalike/sdk';
import { startBenchApi } from './lib/api-server.js';
import { machineLine, markdownTable, writeSection } from './lib/report.js';
import { ascending, quantile } from './lib/stats.js';

const PRODUCTS = Number(process.env.BENCH_PRODUCTS ?? 1000);

function summary(latencies: number[]) {
  const sorted = ascending(latencies);
  return {
    n: sorted.length,
    p50: quantile(sorted, 0.5),
    p95: quantile(sorted, 0.95),
    max: sorted.at(-1) ?? NaN,
  };
}

const api = await startBenchApi({ DEMO_CATALOG: false, WORKER: 'on' });
try {
  const { server, url, merchantId } = api;
  const client = createClient({ url, apiKey: api.key });
  let started = performance.now();
  await seedDemoCatalog(server.core.catalog, merchantId, { count: PRODUCTS, extraPhotoShare: 0.3 });
  console.log(
    `catalog: ${PRODUCTS} products in ${((performance.now() - started) / 1000).toFixed(0)} s`,
  );
  const { db } = server.core;
  const products = (await db.products.list(merchantId, { first: 50 })).items;
  const byProduct = await db.images.listForProducts(
    merchantId,
    products.map((p) => p.id),
  );
  const images = [...byProduct.values()].flat().map((i) => i.id);

  const search = async (i: number) => {
    const t0 = performance.now();
    await client.moreLikeThis({ imageId: images[i % images.length] ?? '', first: 10 });
    return performance.now() - t0;
  };
  const ready = async () => {
    const t0 = performance.now();
    const res = await fetch(`${url}/readyz`);
    await res.arrayBuffer();
    if (!res.ok) throw new Error(`/readyz answered ${res.status}`);
    return performance.now() - t0;
  };

  // 1. Nothing running.
  const idle = { search: [] as number[], ready: [] as number[] };
  for (let i = 0; i < 60; i++) {
    idle.search.push(await search(i));
    idle.ready.push(await ready());
  }

  // 2. The largest evaluation, probed until it finishes.
  const job = await client.startEvaluation({
    sampleSize: 2000,
    depth: 200,
    metrics: ['COSINE', 'EUCLIDEAN'],
  });
  started = performance.now();
  const busy = { search: [] as number[], ready: [] as number[] };
  let state = await client.evaluation(job.id);
  for (let i = 0; state.status === 'QUEUED' || state.status === 'RUNNING'; i++) {
    if (state.status === 'RUNNING') {
      busy.search.push(await search(i));
      busy.ready.push(await ready());
    } else await new Promise((r) => setTimeout(r, 50));
    state = await client.evaluation(job.id);
  }
  if (state.status !== 'COMPLETED') throw new Error(`evaluation ${state.status}: ${state.error}`);
  const seconds =
    (new Date(state.finishedAt ?? 0).getTime() - new Date(state.startedAt ?? 0).getTime()) / 1000;
  const wall = (performance.now() - started) / 1000;

  const rows: (string | number)[][] = [];
  for (const [what, lat] of [
    ['stored-image search, nothing running', idle.search],
    ['stored-image search, during the evaluation', busy.search],
    ['/readyz, nothing running', idle.ready],
    ['/readyz, during the evaluation', busy.ready],
  ] as const) {
    const s = summary(lat);
    rows.push([what, s.n, s.p50.toFixed(1), s.p95.toFixed(1), s.max.toFixed(1)]);
  }
  const table = markdownTable(['probe', 'requests', 'p50 ms', 'p95 ms', 'max ms'], rows);
  const line = `evaluation of ${state.total} queries (${state.total / 2} sampled images x 2 metrics, depth 200) on the worker: ${seconds.toFixed(1)} s (${(state.total / seconds).toFixed(0)} queries/s; ${wall.toFixed(1)} s from start to seen finished)`;
  console.log(table);
  console.log(line);
  await writeSection(
    'evaluation',
    `## Catalog evaluations off the request path (\`npm run bench:evaluation\`)

${machineLine()}; engine ${api.engine}; ${PRODUCTS} demo products (30% with a second photo).

The API's probes, one after another, with nothing running and while the largest evaluation the
API accepts (\`startCatalogEvaluation(sampleSize: 2000, depth: 200, metrics: [COSINE, EUCLIDEAN])\`)
runs on the worker (on the embedded engine, inside the API process):

${table}

${line}.`,
  );
} finally {
  await api.close();
}
