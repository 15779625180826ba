// A closed-loop HTTP load generator, run as its own process by bench/api.ts so that it does not
// share the server's event loop: `concurrency` loops each send the next request as soon as the
// previous one answered, for `seconds`. Prints one JSON line with the latencies and the number
// of requests sent.
//
//   tsx bench/lib/load-worker.ts <spec.json>
//   spec: { url, concurrency, seconds, warmupSeconds, headers, bodies: [{ base64, contentType }] }
//   Each body goes with its own content type: a multipart body's boundary is its own.
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';

interface Spec {
  url: string;
  concurrency: number;
  seconds: number;
  warmupSeconds: number;
  headers: Record<string, string>;
  bodies: { base64: string; contentType: string }[];
}

const spec = JSON.parse(await readFile(process.argv[2] as string, 'utf8')) as Spec;
const bodies = spec.bodies.map((b) => ({
  bytes: Buffer.from(b.base64, 'base64'),
  contentType: b.contentType,
}));
let next = 0;

async function once(): Promise<{ ok: boolean; ms: number }> {
  const body = bodies[next++ % bodies.length];
  if (!body) throw new Error('the spec has no bodies');
  const started = performance.now();
  const res = await fetch(spec.url, {
    method: 'POST',
    headers: { ...spec.headers, 'content-type': body.contentType },
    body: body.bytes,
  });
  const json = (await res.json()) as { errors?: unknown[] };
  return { ok: res.ok && !json.errors, ms: performance.now() - started };
}

let requests = 0;

async function run(seconds: number, record: boolean) {
  const latencies: number[] = [];
  let errors = 0;
  const end = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: spec.concurrency }, async () => {
      while (performance.now() < end) {
        const r = await once();
        requests++;
        if (!record) continue;
        if (r.ok) latencies.push(r.ms);
        else errors++;
      }
    }),
  );
  return { latencies, errors, elapsed: (performance.now() - started) / 1000 };
}

await run(spec.warmupSeconds, false);
const { latencies, errors, elapsed } = await run(spec.seconds, true);
// requests: every request sent, warm-up included (the server's round-trip count covers both).
console.log(JSON.stringify({ latencies, errors, elapsed, requests }));
