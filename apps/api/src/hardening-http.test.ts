import { mkdtemp, readdir, rm } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { testEngines } from '@lookalike/db';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestServer, type TestServer } from './testing/server.js';

// Small timeouts, so that the stalls below take a second, not a minute.
const HEADERS_TIMEOUT_MS = 500;
const BODY_IDLE_TIMEOUT_MS = 500;
const REQUEST_TIMEOUT_MS = 3_000;
const RATE_LIMIT_PER_MINUTE = 20;

const BOUNDARY = 'lookalike-probe';
const SEARCH = `query($image: Upload!) { similarProducts(image: $image) { hits { score } } }`;

/** The head of a GraphQL multipart request: operations and map, no file part yet. */
function multipartHead(query = SEARCH, map = { 0: ['variables.image'] }): string {
  const operations = JSON.stringify({ query, variables: { image: null } });
  return (
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="operations"\r\n\r\n${operations}\r\n` +
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="map"\r\n\r\n${JSON.stringify(map)}\r\n`
  );
}

function filePart(name: string, bytes: Buffer, filename = 'photo.png'): Buffer {
  return Buffer.concat([
    Buffer.from(
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"; filename="${filename}"\r\n` +
        'Content-Type: image/png\r\n\r\n',
    ),
    bytes,
    Buffer.from('\r\n'),
  ]);
}

/** Every file under `dir`, recursively, relative to it. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => !e.isDirectory())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

interface RawAnswer {
  /** The status line and headers, as received. */
  head: string;
  status: number;
  body: string;
  /** When the answer began and when the server closed the connection, ms after connecting. */
  answeredAt: number;
  closedAt: number;
}

/**
 * A raw HTTP exchange over one loopback socket: `send` gets the socket to write to, at its own
 * pace; resolves once the server has closed the connection (or rejects after `waitMs`).
 */
function exchange(
  url: string,
  send: (socket: net.Socket) => void,
  waitMs = 10_000,
): Promise<RawAnswer> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = net.connect({ host: '127.0.0.1', port: Number(port) });
    let received = '';
    let answeredAt = -1;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server kept the connection open for ${waitMs} ms: ${received}`));
    }, waitMs);
    socket.on('data', (d: Buffer) => {
      if (answeredAt < 0) answeredAt = Date.now() - started;
      received += d.toString('latin1');
    });
    // A write after the server closed is expected here: the test keeps trickling.
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      const split = received.indexOf('\r\n\r\n');
      const head = split < 0 ? received : received.slice(0, split);
      resolve({
        head,
        status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0),
        body: split < 0 ? '' : received.slice(split + 4),
        answeredAt,
        closedAt: Date.now() - started,
      });
    });
    socket.on('connect', () => {
      send(socket);
    });
  });
}

/** The headers of a multipart GraphQL request of this file's boundary (CSRF preflight included). */
const MULTIPART = {
  'content-type': `multipart/form-data; boundary=${BOUNDARY}`,
  'apollo-require-preflight': 'true',
};

function requestHead(
  headers: Record<string, string>,
  { method = 'POST', target = '/graphql' } = {},
): string {
  const lines = Object.entries({ host: '127.0.0.1', ...headers }).map(([k, v]) => `${k}: ${v}`);
  return `${method} ${target} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`;
}

describe.each(testEngines())('the HTTP edge ($name)', (engine) => {
  let t: TestServer;
  let scratch: string;
  let photo: Buffer;

  beforeAll(async () => {
    // Everything this process puts in the temporary directory lands here, where nothing else
    // writes: what a request leaves behind can be counted exactly.
    scratch = await mkdtemp(path.join(tmpdir(), 'lookalike-edge-'));
    vi.stubEnv('TMPDIR', scratch);
    expect(tmpdir()).toBe(scratch);
    t = await startTestServer(engine, {
      HEADERS_TIMEOUT_MS,
      BODY_IDLE_TIMEOUT_MS,
      REQUEST_TIMEOUT_MS,
      RATE_LIMIT_PER_MINUTE,
    });
    photo = await sharp({
      create: { width: 64, height: 64, channels: 3, background: { r: 20, g: 90, b: 200 } },
    })
      .png()
      .toBuffer();
  }, 120_000);

  afterAll(async () => {
    await t.stop();
    vi.unstubAllEnvs();
    await rm(scratch, { recursive: true, force: true });
  });

  describe('temporary files', () => {
    // The probe: the same file field twice, 9 MB, answered 401, left the first file in the
    // temporary directory for good.
    const duplicated = () =>
      Buffer.concat([
        Buffer.from(multipartHead()),
        filePart('0', Buffer.alloc(9 * 1024 * 1024, 7)),
        filePart('0', photo),
        Buffer.from(`--${BOUNDARY}--\r\n`),
      ]);

    it.each([
      ['a valid key', () => ({ authorization: `Bearer ${t.key}` }), [200, 400, 413, 415]],
      ['no key', () => ({}), [401]],
      ['an invalid key', () => ({ authorization: 'Bearer lk_nope' }), [401]],
    ])('a duplicated file field with %s leaves no file anywhere', async (_name, auth, statuses) => {
      const before = await filesUnder(scratch);
      const res = await fetch(`${t.url}/graphql`, {
        method: 'POST',
        headers: {
          ...auth(),
          ...MULTIPART,
        },
        body: duplicated(),
      });
      await res.text();
      expect(statuses).toContain(res.status);
      expect(await filesUnder(scratch)).toEqual(before);
      expect(t.logs.filter((l) => l.includes('unexpected'))).toEqual([]);
    });
  });

  describe('the key and the rate limit come before the body', () => {
    const withheld = (headers: Record<string, string>) =>
      exchange(t.url, (socket) => {
        socket.write(
          requestHead({
            ...MULTIPART,
            'content-length': String(50 * 1024 * 1024),
            ...headers,
          }),
        );
        // Not one byte of the body.
      });

    it('no key: 401 before any of the body is sent, and the connection closed', async () => {
      const answer = await withheld({});
      expect(answer.status).toBe(401);
      expect(JSON.parse(answer.body)).toMatchObject({
        errors: [{ extensions: { code: 'UNAUTHENTICATED' } }],
      });
      // Answered at once, not after a body timeout.
      expect(answer.closedAt).toBeLessThan(BODY_IDLE_TIMEOUT_MS);
    });

    it('an invalid key: 401 before the body', async () => {
      const answer = await withheld({ authorization: 'Bearer lk_aaaaaaaaaaaa_' + 'b'.repeat(40) });
      expect(answer.status).toBe(401);
      expect(answer.closedAt).toBeLessThan(BODY_IDLE_TIMEOUT_MS);
    });

    it('past the rate limit: 429 with Retry-After before the body', async () => {
      const created = await t.server.core.apiKeys.create(t.server.bootstrap.merchantId, 'probe', [
        'SEARCH',
      ]);
      const client = t.client.withKey(created.token);
      for (let i = 0; i < RATE_LIMIT_PER_MINUTE; i++) {
        expect((await client.query(`{ searchSettings { metric } }`)).status).toBe(200);
      }
      const answer = await withheld({ authorization: `Bearer ${created.token}` });
      expect(answer.status).toBe(429);
      expect(answer.head).toMatch(/\r\nretry-after: \d+/i);
      expect(answer.closedAt).toBeLessThan(BODY_IDLE_TIMEOUT_MS);
    });
  });

  describe('timeouts', () => {
    it(`headers that stop coming: 408 after HEADERS_TIMEOUT_MS, connection closed`, async () => {
      const answer = await exchange(t.url, (socket) => {
        socket.write('POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: appl');
      });
      expect(answer.status).toBe(408);
      expect(answer.closedAt).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 50);
      expect(answer.closedAt).toBeLessThan(HEADERS_TIMEOUT_MS + 2_000);
    });

    it('a multipart body that stops: 408 after BODY_IDLE_TIMEOUT_MS, connection closed', async () => {
      const answer = await exchange(t.url, (socket) => {
        socket.write(
          requestHead({
            authorization: `Bearer ${t.key}`,
            ...MULTIPART,
            'content-length': String(1024 * 1024),
          }),
        );
        socket.write(multipartHead());
        socket.write(filePart('0', photo.subarray(0, 100)).subarray(0, 200));
      });
      expect(answer.status).toBe(408);
      expect(answer.head).toMatch(/\r\nconnection: close/i);
      expect(JSON.parse(answer.body)).toMatchObject({
        errors: [{ message: expect.stringMatching(/request body/) as unknown }],
      });
      expect(answer.closedAt).toBeGreaterThanOrEqual(BODY_IDLE_TIMEOUT_MS - 50);
      expect(answer.closedAt).toBeLessThan(BODY_IDLE_TIMEOUT_MS + 2_000);
      expect(t.logs.filter((l) => l.includes('unexpected'))).toEqual([]);
    });

    it('a JSON body that stops: 408 after BODY_IDLE_TIMEOUT_MS', async () => {
      const answer = await exchange(t.url, (socket) => {
        socket.write(
          requestHead({
            authorization: `Bearer ${t.key}`,
            'content-type': 'application/json',
            'content-length': '500',
          }),
        );
        socket.write('{"query": "{ searchSet');
      });
      expect(answer.status).toBe(408);
      expect(answer.closedAt).toBeLessThan(BODY_IDLE_TIMEOUT_MS + 2_000);
    });

    it('a body that trickles (never idle): cut at REQUEST_TIMEOUT_MS with 408', async () => {
      let trickle: NodeJS.Timeout | undefined;
      const answer = await exchange(t.url, (socket) => {
        socket.write(
          requestHead({
            authorization: `Bearer ${t.key}`,
            ...MULTIPART,
            'content-length': String(1024 * 1024),
          }),
        );
        socket.write(multipartHead());
        socket.write(filePart('0', Buffer.alloc(0)).subarray(0, 120));
        // One byte every 100 ms: always under the idle timeout, forever short of the body.
        trickle = setInterval(() => {
          if (!socket.destroyed) socket.write('x');
        }, 100);
      });
      clearInterval(trickle);
      expect(answer.status).toBe(408);
      expect(answer.closedAt).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 50);
      expect(answer.closedAt).toBeLessThan(REQUEST_TIMEOUT_MS + 2_500);
    });

    it('the body timer ends with the body: a kept-alive connection idles between requests', async () => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      const post = () =>
        new Promise<{ status: number; socket: net.Socket }>((resolve, reject) => {
          const req = http.request(
            `${t.url}/graphql`,
            {
              method: 'POST',
              agent,
              headers: { authorization: `Bearer ${t.key}`, 'content-type': 'application/json' },
            },
            (res) => {
              res.resume();
              res.on('end', () => {
                resolve({ status: res.statusCode ?? 0, socket: req.socket as net.Socket });
              });
            },
          );
          req.on('error', reject);
          req.end(JSON.stringify({ query: '{ searchSettings { metric } }' }));
        });
      try {
        const first = await post();
        expect(first.status).toBe(200);
        // Longer than the body idle timeout, shorter than Node's keep-alive timeout (5 s).
        await new Promise((r) => setTimeout(r, BODY_IDLE_TIMEOUT_MS + 500));
        expect(first.socket.destroyed).toBe(false);
        const second = await post();
        expect(second.status).toBe(200);
        expect(second.socket).toBe(first.socket);
      } finally {
        agent.destroy();
      }
    });
  });
});
