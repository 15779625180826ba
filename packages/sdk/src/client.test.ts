import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, importFormatOf, LookalikeError } from './index.js';
import { IngestJobDocument, ViewerDocument } from './generated/graphql.js';

/** A scripted GraphQL server on loopback: each request gets the next answer. */
interface Answer {
  status: number;
  headers?: Record<string, string>;
  body: unknown;
}
const answers: Answer[] = [];
const seen: { headers: IncomingMessage['headers']; body: string; at: number }[] = [];

const server = createServer((req: IncomingMessage, res: ServerResponse) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    seen.push({
      headers: req.headers,
      body: Buffer.concat(chunks).toString('latin1'),
      at: Date.now(),
    });
    const a = answers.shift() ?? { status: 500, body: 'no answer scripted' };
    res.writeHead(a.status, { 'content-type': 'application/json', ...a.headers });
    res.end(typeof a.body === 'string' ? a.body : JSON.stringify(a.body));
  });
});
let url = '';

beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(
  () =>
    new Promise<void>((r) =>
      server.close(() => {
        r();
      }),
    ),
);

const job = {
  id: 'j1',
  status: 'RUNNING',
  format: 'CSV',
  total: 3,
  done: 1,
  failed: 0,
  images: 1,
  createdAt: '2026-12-02T00:00:00.000Z',
  startedAt: null,
  finishedAt: null,
};

describe('LookalikeClient', () => {
  it('sends the key and a typed document, and answers its data', async () => {
    seen.length = 0;
    answers.push({ status: 200, body: { data: { ingestJob: job } } });
    const client = createClient({ url: `${url}/`, apiKey: 'lk_x' });
    const data = await client.request(IngestJobDocument, { id: 'j1' });
    expect(data.ingestJob.done).toBe(1);
    expect(seen[0]?.headers.authorization).toBe('Bearer lk_x');
    expect(JSON.parse(seen[0]?.body ?? '')).toMatchObject({ variables: { id: 'j1' } });
    expect((JSON.parse(seen[0]?.body ?? '') as { query: string }).query).toContain(
      'query IngestJob',
    );
  });

  it("throws the API's code, field and reason as a LookalikeError", async () => {
    answers.push({
      status: 200,
      body: {
        errors: [
          {
            message: 'bad url',
            extensions: { code: 'BAD_USER_INPUT', field: 'imageUrl', reason: 'ADDRESS_REFUSED' },
          },
        ],
      },
    });
    const error = await createClient({ url })
      .searchUrl('http://10.0.0.1/x.jpg')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LookalikeError);
    expect(error).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'imageUrl',
      reason: 'ADDRESS_REFUSED',
      status: 200,
    });
  });

  it('retries RATE_LIMITED after Retry-After, then answers', async () => {
    seen.length = 0;
    const limited = {
      status: 429,
      headers: { 'retry-after': '1' },
      body: {
        errors: [{ message: 'slow down', extensions: { code: 'RATE_LIMITED', retryAfter: 1 } }],
      },
    };
    answers.push(limited, { status: 200, body: { data: { ingestJob: job } } });
    const retries: number[] = [];
    const client = createClient({ url, onRetry: ({ waitSeconds }) => retries.push(waitSeconds) });
    expect((await client.job('j1')).id).toBe('j1');
    expect(retries).toEqual([1]);
    expect(seen).toHaveLength(2);
    expect((seen[1]?.at ?? 0) - (seen[0]?.at ?? 0)).toBeGreaterThanOrEqual(950);
  });

  it('gives up after its attempts, and on a Retry-After longer than it waits', async () => {
    const limited = (after: number) => ({
      status: 429,
      headers: { 'retry-after': String(after) },
      body: { errors: [{ message: 'slow down', extensions: { code: 'RATE_LIMITED' } }] },
    });
    answers.push(limited(0), limited(0));
    const twice = createClient({ url, retry: { attempts: 2 } });
    await expect(twice.job('j1')).rejects.toMatchObject({ code: 'RATE_LIMITED', retryAfter: 0 });
    answers.push(limited(3600));
    await expect(createClient({ url }).job('j1')).rejects.toMatchObject({
      code: 'RATE_LIMITED',
      retryAfter: 3600,
    });
    expect(answers).toHaveLength(0);
  });

  it('says API_UNREACHABLE when nothing listens, and BAD_RESPONSE for an answer that is not GraphQL', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) =>
      closed.close(() => {
        r();
      }),
    );
    await expect(createClient({ url: `http://127.0.0.1:${port}` }).viewer()).rejects.toMatchObject({
      code: 'API_UNREACHABLE',
      status: 0,
    });
    answers.push({ status: 502, body: '<html>bad gateway</html>' });
    await expect(createClient({ url }).request(ViewerDocument)).rejects.toMatchObject({
      code: 'INTERNAL_SERVER_ERROR',
      status: 502,
    });
    answers.push({ status: 200, body: { data: null } });
    await expect(createClient({ url }).viewer()).rejects.toMatchObject({ code: 'BAD_RESPONSE' });
  });

  it('sends files as GraphQL multipart requests with the preflight header', async () => {
    seen.length = 0;
    answers.push({
      status: 200,
      body: {
        data: {
          matchImages: {
            isMatch: true,
            verdict: 'MATCH',
            score: 1,
            distance: 0,
            threshold: 0.9,
            metric: 'COSINE',
            model: 'm',
          },
        },
      },
    });
    const m = await createClient({ url }).match(
      Buffer.from('first-image'),
      new Blob(['second-image']),
    );
    expect(m.isMatch).toBe(true);
    const req = seen[0];
    expect(req?.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    expect(req?.headers['apollo-require-preflight']).toBe('true');
    expect(req?.body).toContain('"map"');
    expect(req?.body).toContain('{"0":["variables.a"],"1":["variables.b"]}');
    expect(req?.body).toContain('first-image');
    expect(req?.body).toContain('second-image');
    expect(req?.body).toMatch(/"variables":\{"a":null,"b":null\}/);
  });

  it('refuses an import whose format it cannot tell, before sending anything', async () => {
    seen.length = 0;
    await expect(createClient({ url }).importCatalog(Buffer.from('x'))).rejects.toMatchObject({
      code: 'BAD_USER_INPUT',
    });
    expect(seen).toHaveLength(0);
    expect(importFormatOf('a/b/Catalog.CSV')).toBe('CSV');
    expect(importFormatOf('x.ndjson')).toBe('JSONL');
    expect(importFormatOf('x.zip')).toBe('ZIP');
    expect(importFormatOf('x.txt')).toBeUndefined();
  });

  it('waitForJob polls until the job has finished and reports every poll', async () => {
    answers.push(
      { status: 200, body: { data: { ingestJob: { ...job, done: 2 } } } },
      { status: 200, body: { data: { ingestJob: { ...job, done: 3, status: 'COMPLETED' } } } },
    );
    const progress: number[] = [];
    const final = await createClient({ url }).waitForJob('j1', {
      intervalMs: 10,
      onProgress: (j) => progress.push(j.done),
    });
    expect(final.status).toBe('COMPLETED');
    expect(progress).toEqual([2, 3]);
  });
});
