// Nearest-neighbour search in pgvector, on embedded PGlite and (with BENCH_DATABASE_URL or
// TEST_DATABASE_URL) native Postgres: bulk load and HNSW build time, then recall@10 and latency
// of the HNSW index at several hnsw.ef_search values against a brute-force truth, exact scans,
// and a filter matching 1% of the catalog. This is the measurement behind HNSW_EF_SEARCH.
//
//   npm run bench:nearest                 # 50k x 128-d, 200 queries
//   BENCH_N=10000 npm run bench:nearest
import { performance } from 'node:perf_hooks';
import {
  bruteForceNearest,
  clusteredVectors,
  HNSW_EF_SEARCH,
  seedCatalog,
  testEngines,
  type Metric,
  type NearestArgs,
  type SeededItem,
} from '@lookalike/db';
import { machineLine, markdownTable, writeSection } from './lib/report.js';

const N = Number(process.env.BENCH_N ?? 50_000);
const QUERIES = Number(process.env.BENCH_QUERIES ?? 200);
const DIMS = 128;
const K = 10;
const MODEL = 'fashion-resnet-v1';
const EF_VALUES = [10, 20, 40, 60, 100, 200, 400];
const baseUrl = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function timed(
  queries: Float32Array[],
  run: (q: Float32Array) => Promise<{ imageId: string }[]>,
) {
  const latencies: number[] = [];
  const results: string[][] = [];
  for (const q of queries) {
    const start = performance.now();
    const hits = await run(q);
    latencies.push(performance.now() - start);
    results.push(hits.map((h) => h.imageId));
  }
  latencies.sort((a, b) => a - b);
  return { results, p50: percentile(latencies, 50), p95: percentile(latencies, 95) };
}

function recall(results: string[][], truth: Set<string>[]): number {
  let found = 0;
  let total = 0;
  results.forEach((ids, i) => {
    const t = truth[i] ?? new Set();
    found += ids.filter((id) => t.has(id)).length;
    total += t.size;
  });
  return found / total;
}

const rows: (string | number)[][] = [];
const loadRows: (string | number)[][] = [];
const { vectors } = clusteredVectors({
  n: N + QUERIES,
  dims: DIMS,
  clusters: 50,
  spread: 0.7,
  seed: 7,
});
const catalogVectors = vectors.slice(0, N);
const queries = vectors.slice(N);

for (const engine of testEngines(baseUrl)) {
  const t = await engine.create();
  const { db } = t;
  try {
    const merchantId = (await db.merchants.create('bench')).id;
    // Bulk load without the HNSW indexes, then build them: how a big catalog is imported.
    await db.models.dropIndexes(MODEL);
    let start = performance.now();
    const items: SeededItem[] = await seedCatalog(db, merchantId, catalogVectors, {
      category: (i) => (i % 100 === 0 ? 'rare' : 'common'),
    });
    const loadSeconds = (performance.now() - start) / 1000;
    start = performance.now();
    await db.models.ensureIndexes(MODEL);
    const buildSeconds = (performance.now() - start) / 1000;
    await db.prisma.$executeRawUnsafe('ANALYZE');
    loadRows.push([
      engine.name,
      N,
      `${(N / loadSeconds).toFixed(0)} rows/s`,
      `${buildSeconds.toFixed(1)} s`,
    ]);
    console.log(
      `[${engine.name}] loaded ${N} in ${loadSeconds.toFixed(1)} s, built 2 HNSW indexes in ${buildSeconds.toFixed(1)} s`,
    );

    const catalog = items.map((i) => ({ id: i.imageId, vector: i.vector }));
    const rare = items
      .filter((i) => i.category === 'rare')
      .map((i) => ({ id: i.imageId, vector: i.vector }));
    for (const metric of ['cosine', 'euclidean'] as Metric[]) {
      const truth = queries.map(
        (q) => new Set(bruteForceNearest(metric, q, catalog, K).map((e) => e.id)),
      );
      const rareTruth = queries.map(
        (q) => new Set(bruteForceNearest(metric, q, rare, K).map((e) => e.id)),
      );
      const base: Omit<NearestArgs, 'vector'> = { merchantId, modelId: MODEL, metric, k: K };
      const measure = async (
        label: string,
        args: Omit<NearestArgs, 'vector' | 'merchantId' | 'modelId' | 'metric' | 'k'>,
        expected = truth,
      ) => {
        const r = await timed(queries, (vector) =>
          db.embeddings.nearest({ ...base, ...args, vector }),
        );
        const rec = recall(r.results, expected);
        rows.push([engine.name, metric, label, rec.toFixed(4), r.p50.toFixed(2), r.p95.toFixed(2)]);
        console.log(
          `[${engine.name}] ${metric} ${label}: recall@${K} ${rec.toFixed(4)}, p50 ${r.p50.toFixed(2)} ms, p95 ${r.p95.toFixed(2)} ms`,
        );
      };
      for (const efSearch of EF_VALUES) {
        await measure(
          `HNSW ef_search=${efSearch}${efSearch === HNSW_EF_SEARCH ? ' (default)' : ''}`,
          { strategy: 'index', efSearch },
        );
      }
      // What a search runs: one statement on the connection's settings, the planner's plan.
      await measure('auto (the search default)', { strategy: 'auto' });
      await measure('exact scan', { strategy: 'exact' });
      await measure(
        'filter 1%, auto',
        { strategy: 'auto', filter: { category: 'rare' } },
        rareTruth,
      );
      await measure(
        'filter 1%, HNSW iterative',
        { strategy: 'index', filter: { category: 'rare' } },
        rareTruth,
      );
    }
  } finally {
    await t.drop();
  }
}

const md = `## Nearest neighbours (pgvector HNSW) — \`npm run bench:nearest\`

${machineLine()}. ${N} clustered ${DIMS}-d vectors (50 clusters), ${QUERIES} held-out queries,
k = ${K}, recall against brute force in TypeScript; latency is one query at a time through
\`EmbeddingRepository.nearest\` (Prisma). "auto" is what a search runs: one statement on the
connection's defaults (ef_search ${HNSW_EF_SEARCH}, iterative scans), the plan the planner picks
with fresh statistics; the other strategies set theirs first, in a transaction (four statements).

${markdownTable(['engine', 'rows', 'bulk load', 'HNSW build (cosine + L2)'], loadRows)}

${markdownTable(['engine', 'metric', 'strategy', `recall@${K}`, 'p50 ms', 'p95 ms'], rows)}
`;
await writeSection('nearest', md);
console.log(md);
