import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import tls from 'node:tls';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseAllowList } from './address-policy.js';
import {
  createSafeFetcher,
  FetchError,
  USER_AGENT,
  type ConnectTarget,
  type FetchErrorCode,
  type LookupAll,
  type RetryEvent,
  type SafeFetcher,
  type SafeFetcherOptions,
} from './safe-fetch.js';

// The rule of these tests: traffic goes to loopback only. Refused targets (10/8, the metadata
// address, ...) are checked with literal URLs or a stubbed resolver, and three guards make a
// broken filter fail a test instead of sending a packet: the fetcher's onConnect hook refuses
// anything but 127.0.0.1, and net.connect / tls.connect are wrapped to refuse non-loopback hosts.

let png: Buffer;
let jpeg: Buffer;
let server: http.Server;
let port: number;
let origin: string;
const hits = new Map<string, number>();
const seen: { path: string; headers: http.IncomingHttpHeaders; body: string }[] = [];
let active = 0;
let maxActive = 0;

function hit(key: string): number {
  const count = (hits.get(key) ?? 0) + 1;
  hits.set(key, count);
  return count;
}

function handle(req: http.IncomingMessage, res: http.ServerResponse, body: string): void {
  const url = new URL(req.url ?? '/', 'http://local');
  const count = hit(`${url.pathname}${url.search}`);
  seen.push({ path: `${url.pathname}${url.search}`, headers: req.headers, body });
  const send = (status: number, type: string, data: Buffer | string, extra = {}) => {
    res.writeHead(status, {
      'content-type': type,
      'content-length': Buffer.byteLength(data),
      ...extra,
    });
    res.end(data);
  };
  const redirect = (location: string, status = 302) => {
    res.writeHead(status, { location, 'content-length': 0 });
    res.end();
  };
  switch (url.pathname) {
    case '/image.png':
      send(200, 'image/png', png);
      break;
    case '/image.jpg':
      send(200, 'image/jpeg', jpeg);
      break;
    case '/page.html':
      // Claims to be an image; the bytes say otherwise.
      send(200, 'image/png', '<!doctype html><html><body>hello</body></html>');
      break;
    case '/big-declared':
      send(200, 'image/png', Buffer.concat([png, Buffer.alloc(5000)]));
      break;
    case '/big-stream': {
      // No Content-Length: only counting the bytes can stop it.
      res.writeHead(200, { 'content-type': 'image/png' });
      res.write(png);
      let sent = 0;
      const timer = setInterval(() => {
        if (res.destroyed || sent > 100_000) {
          clearInterval(timer);
          res.end();
          return;
        }
        sent += 1000;
        res.write(Buffer.alloc(1000));
      }, 2);
      break;
    }
    case '/slow':
      break; // never answers; closeAllConnections() ends it
    case '/slow-body':
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': png.length });
      res.write(png.subarray(0, 10));
      break; // the rest never comes
    case '/flaky':
      if (count === 1) send(503, 'text/plain', 'down');
      else send(200, 'image/png', png);
      break;
    case '/down':
      send(503, 'text/plain', 'down');
      break;
    case '/busy':
      if (count === 1) send(429, 'text/plain', 'slow down', { 'retry-after': '1' });
      else send(200, 'image/png', png);
      break;
    case '/reset':
      if (count === 1) req.socket.destroy();
      else send(200, 'image/png', png);
      break;
    case '/missing':
      send(404, 'text/plain', 'not here');
      break;
    case '/redirect-ok':
      redirect('/image.png', 301);
      break;
    case '/to-private':
      redirect('http://10.0.0.5/image.png');
      break;
    case '/to-metadata':
      redirect('http://169.254.169.254/latest/meta-data/', 307);
      break;
    case '/to-private-name':
      redirect(`http://intranet.test:${port}/image.png`);
      break;
    case '/to-file':
      redirect('file:///etc/passwd');
      break;
    case '/loop':
      redirect('/loop');
      break;
    case '/counted':
      // Holds each request a moment so that concurrent ones overlap.
      active += 1;
      maxActive = Math.max(maxActive, active);
      setTimeout(() => {
        active -= 1;
        send(200, 'image/png', png);
      }, 80);
      break;
    case '/webhook':
      send(200, 'application/json', JSON.stringify({ method: req.method, body }));
      break;
    case '/webhook-long':
      send(200, 'text/plain', 'x'.repeat(5000));
      break;
    case '/webhook-redirect':
      redirect('/webhook', 307);
      break;
    case '/webhook-error':
      send(500, 'text/plain', 'oops');
      break;
    default:
      send(404, 'text/plain', 'no route');
  }
}

beforeAll(async () => {
  const image = sharp({ create: { width: 8, height: 8, channels: 3, background: '#c33' } });
  png = await image.clone().png().toBuffer();
  jpeg = await image.clone().jpeg().toBuffer();
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      handle(req, res, Buffer.concat(chunks).toString());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  origin = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);
const realNetConnect = net.connect;
const realTlsConnect = tls.connect;
let netConnect: ReturnType<typeof vi.fn>;
let tlsConnect: ReturnType<typeof vi.fn>;
const connects: ConnectTarget[] = [];
const fetchers: SafeFetcher[] = [];

beforeEach(() => {
  const guard = (name: string, real: (...args: unknown[]) => unknown) =>
    vi.fn((...args: unknown[]) => {
      const first = args[0];
      const host = typeof first === 'object' && first ? (first as { host?: string }).host : args[1];
      if (typeof host !== 'string' || !LOOPBACK.has(host)) {
        throw new Error(`test guard: ${name} to ${String(host)} refused`);
      }
      return real(...args);
    });
  netConnect = guard('net.connect', realNetConnect as never);
  tlsConnect = guard('tls.connect', realTlsConnect as never);
  vi.spyOn(net, 'connect').mockImplementation(netConnect as never);
  vi.spyOn(tls, 'connect').mockImplementation(tlsConnect as never);
  hits.clear();
  seen.length = 0;
  connects.length = 0;
  active = 0;
  maxActive = 0;
});

afterEach(async () => {
  await Promise.all(fetchers.splice(0).map((fetcher) => fetcher.close()));
  vi.restoreAllMocks();
});

/** A resolver answering from a table; unknown names are not found. Never asks real DNS. */
function stubLookup(table: Record<string, string[] | (() => string[])>): LookupAll & {
  calls: string[];
} {
  const calls: string[] = [];
  const lookup: LookupAll = (hostname, _options, callback) => {
    calls.push(hostname);
    const entry = table[hostname];
    const addresses = typeof entry === 'function' ? entry() : entry;
    setImmediate(() => {
      if (!addresses) {
        const error = Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), {
          code: 'ENOTFOUND',
        });
        callback(error, []);
        return;
      }
      callback(
        null,
        addresses.map((address) => ({ address, family: net.isIPv6(address) ? 6 : 4 })),
      );
    });
  };
  return Object.assign(lookup, { calls });
}

const defaultLookup = stubLookup({
  'loopback.test': ['127.0.0.1'],
  'public.test': ['93.184.216.34'],
  'mixed.test': ['93.184.216.34', '10.0.0.5'],
  'metadata.test': ['::ffff:169.254.169.254'],
  'intranet.test': ['192.168.1.20'],
  'v6-private.test': ['2606:4700:4700::1111', 'fd00::5'],
});

/** A fetcher on the local test server: 127.0.0.1 allowed, tiny retry delays, all guards. */
function fetcher(options: SafeFetcherOptions = {}): SafeFetcher {
  const created = createSafeFetcher({
    allow: parseAllowList(['127.0.0.1']),
    lookup: defaultLookup,
    retryBaseMs: 1,
    ...options,
    onConnect: (target) => {
      connects.push(target);
      if (target.address !== '127.0.0.1') {
        throw new Error(`test guard: would connect to ${target.address}`);
      }
    },
  });
  fetchers.push(created);
  return created;
}

/** A fetcher with the production policy: nothing allowed beyond public unicast. */
const strict = (options: SafeFetcherOptions = {}) =>
  fetcher({ allow: parseAllowList([]), ...options });

async function failure(promise: Promise<unknown>): Promise<FetchError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(FetchError);
    return error as FetchError;
  }
  throw new Error('expected a FetchError, the call succeeded');
}

async function expectFailure(
  promise: Promise<unknown>,
  code: FetchErrorCode,
  reason?: string | RegExp,
): Promise<FetchError> {
  const error = await failure(promise);
  expect(error.code, error.reason).toBe(code);
  if (typeof reason === 'string') expect(error.reason).toContain(reason);
  else if (reason) expect(error.reason).toMatch(reason);
  return error;
}

function expectNoConnection(): void {
  expect(connects).toEqual([]);
  expect(netConnect).not.toHaveBeenCalled();
  expect(tlsConnect).not.toHaveBeenCalled();
}

describe('fetchImage: what it fetches', () => {
  it('fetches a PNG and a JPEG from an allowed address, typed by their bytes', async () => {
    const f = fetcher();
    const image = await f.fetchImage(`${origin}/image.png`);
    expect(image).toEqual({
      bytes: png,
      mime: 'image/png',
      finalUrl: `${origin}/image.png`,
      status: 200,
    });
    expect((await f.fetchImage(`${origin}/image.jpg`)).mime).toBe('image/jpeg');
    // The guards saw the connections: they are in the path that matters.
    expect(connects).toEqual([
      { host: '127.0.0.1', address: '127.0.0.1', port, tls: false },
      { host: '127.0.0.1', address: '127.0.0.1', port, tls: false },
    ]);
    expect(netConnect).toHaveBeenCalledTimes(2);
  });

  it('sends its User-Agent, the Host of the URL and asks for identity encoding', async () => {
    await fetcher().fetchImage(`${origin}/image.png?size=large`);
    const request = seen[0]!;
    expect(request.path).toBe('/image.png?size=large');
    expect(request.headers['user-agent']).toBe(USER_AGENT);
    expect(USER_AGENT).toBe('Lookalike/1.0 (+image fetcher)');
    expect(request.headers.host).toBe(`127.0.0.1:${port}`);
    expect(request.headers['accept-encoding']).toBe('identity');
  });

  it('refuses HTML served as an image, without retrying', async () => {
    await expectFailure(
      fetcher().fetchImage(`${origin}/page.html`),
      'NOT_AN_IMAGE',
      'not an image (image/png)',
    );
    expect(hits.get('/page.html')).toBe(1);
  });

  it('lets an allowed hostname through whatever it resolves to', async () => {
    const f = fetcher({
      allow: parseAllowList(['images.internal']),
      lookup: stubLookup({ 'images.internal': ['127.0.0.1'] }),
    });
    const image = await f.fetchImage(`http://Images.Internal:${port}/image.png`);
    expect(image.finalUrl).toBe(`http://images.internal:${port}/image.png`);
    expect(seen[0]!.headers.host).toBe(`images.internal:${port}`);
    expect(connects).toEqual([{ host: 'images.internal', address: '127.0.0.1', port, tls: false }]);
  });

  it('resolves once and dials the address it checked (DNS rebinding)', async () => {
    // A name that answers loopback (allowed here) the first time and a private address after:
    // a client that resolved again to connect would end up at 10.0.0.5.
    let answers = 0;
    const lookup = stubLookup({
      'rebind.test': () => (answers++ === 0 ? ['127.0.0.1'] : ['10.0.0.5']),
    });
    const image = await fetcher({ lookup }).fetchImage(`http://rebind.test:${port}/image.png`);
    expect(image.mime).toBe('image/png');
    expect(lookup.calls).toEqual(['rebind.test']);
    expect(connects.map((target) => target.address)).toEqual(['127.0.0.1']);
  });
});

describe('fetchImage: the SSRF matrix', () => {
  it.each([
    ['http://127.0.0.1/', 'address 127.0.0.1 is loopback'],
    [`http://127.0.0.1:1/x.png`, 'address 127.0.0.1 is loopback'],
    ['http://127.255.0.1/', 'address 127.255.0.1 is loopback'],
    ['http://[::1]/', 'address ::1 is loopback'],
    ['http://10.0.0.5/', 'address 10.0.0.5 is private'],
    ['https://10.1.2.3:8443/', 'address 10.1.2.3 is private'],
    ['http://172.16.0.1/', 'address 172.16.0.1 is private'],
    ['http://172.31.255.254/', 'address 172.31.255.254 is private'],
    ['http://192.168.0.1/', 'address 192.168.0.1 is private'],
    ['http://100.64.0.1/', 'address 100.64.0.1 is carrier-grade NAT'],
    ['http://169.254.169.254/latest/meta-data/', 'address 169.254.169.254 is link-local'],
    ['http://[fe80::1]/', 'address fe80::1 is link-local'],
    ['http://[fd00::1]/', 'address fd00::1 is private (unique local)'],
    // WHATWG URL writes the mapped address in hex; it is judged as its v4 address.
    [
      'http://[::ffff:127.0.0.1]/',
      'address ::ffff:7f00:1 is loopback (IPv4-mapped embedding 127.0.0.1)',
    ],
    ['http://[::ffff:10.0.0.5]/', 'private (IPv4-mapped embedding 10.0.0.5)'],
    ['http://[64:ff9b::a9fe:a9fe]/', 'NAT64 embedding 169.254.169.254'],
    ['http://0.0.0.0/', 'address 0.0.0.0 is unspecified'],
    ['http://0/', 'address 0.0.0.0 is unspecified'],
    ['http://[::]/', 'address :: is unspecified'],
    ['http://255.255.255.255/', 'address 255.255.255.255 is broadcast'],
    ['http://224.0.0.1/', 'address 224.0.0.1 is multicast'],
    ['http://198.18.0.1/', 'reserved for benchmarking'],
    ['http://192.0.2.1/', 'reserved for documentation'],
    // Other spellings of 127.0.0.1 and 10.0.0.5, normalised by WHATWG URL, then checked.
    ['http://2130706433/', 'address 127.0.0.1 is loopback'],
    ['http://0177.0.0.1/', 'address 127.0.0.1 is loopback'],
    ['http://017700000001/', 'address 127.0.0.1 is loopback'],
    ['http://0x7f.0.0.1/', 'address 127.0.0.1 is loopback'],
    ['http://0x7f000001/', 'address 127.0.0.1 is loopback'],
    ['http://127.1/', 'address 127.0.0.1 is loopback'],
    ['http://167772165/', 'address 10.0.0.5 is private'],
    ['http://012.0.0.05/', 'address 10.0.0.5 is private'],
  ])('refuses %s before connecting', async (url, reason) => {
    const lookup = stubLookup({});
    await expectFailure(strict({ lookup }).fetchImage(url), 'ADDRESS_REFUSED', reason);
    expect(lookup.calls).toEqual([]); // an IP literal is never resolved
    expectNoConnection();
  });

  it.each([
    ['loopback.test', 'address 127.0.0.1 of host loopback.test is loopback'],
    ['metadata.test', 'address ::ffff:169.254.169.254 of host metadata.test is link-local'],
    ['intranet.test', 'address 192.168.1.20 of host intranet.test is private'],
    // One good address does not make a name safe: the socket might try the other.
    ['mixed.test', 'address 10.0.0.5 of host mixed.test is private'],
    ['v6-private.test', 'address fd00::5 of host v6-private.test is private (unique local)'],
  ])('refuses %s by what it resolves to, before connecting', async (host, reason) => {
    await expectFailure(strict().fetchImage(`http://${host}/image.png`), 'ADDRESS_REFUSED', reason);
    await expectFailure(
      strict().fetchImage(`https://${host}/image.png`),
      'ADDRESS_REFUSED',
      reason,
    );
    expectNoConnection();
  });

  it('connects a public name to the address it resolved, with TLS checking the name', async () => {
    // The test's onConnect vetoes 93.184.216.34, so nothing leaves the machine.
    const f = strict();
    await expectFailure(
      f.fetchImage('http://public.test/image.png'),
      'UNREACHABLE',
      'would connect to 93.184.216.34',
    );
    await expectFailure(f.fetchImage('https://public.test/image.png'), 'UNREACHABLE');
    expect(connects).toEqual([
      { host: 'public.test', address: '93.184.216.34', port: 80, tls: false },
      { host: 'public.test', address: '93.184.216.34', port: 443, tls: true },
    ]);
    expect(netConnect).not.toHaveBeenCalled();
    expect(tlsConnect).not.toHaveBeenCalled();
  });

  it('says when a name does not resolve', async () => {
    await expectFailure(
      strict().fetchImage('http://nowhere.test/'),
      'UNREACHABLE',
      'host nowhere.test not found',
    );
    expectNoConnection();
  });

  it('refuses a redirect from the allowed server to a private address before connecting', async () => {
    const f = fetcher();
    const error = await expectFailure(
      f.fetchImage(`${origin}/to-private`),
      'ADDRESS_REFUSED',
      'address 10.0.0.5 is private',
    );
    expect(error.url).toBe('http://10.0.0.5/image.png');
    await expectFailure(
      f.fetchImage(`${origin}/to-metadata`),
      'ADDRESS_REFUSED',
      '169.254.169.254',
    );
    await expectFailure(
      f.fetchImage(`${origin}/to-private-name`),
      'ADDRESS_REFUSED',
      'address 192.168.1.20 of host intranet.test is private',
    );
    // Only the local server was ever dialled.
    expect(connects.map((target) => target.address)).toEqual([
      '127.0.0.1',
      '127.0.0.1',
      '127.0.0.1',
    ]);
  });

  it('refuses a redirect to another scheme', async () => {
    await expectFailure(fetcher().fetchImage(`${origin}/to-file`), 'SCHEME_REFUSED', 'file:');
  });

  it.each([
    ['ftp://example.com/image.png', 'ftp:'],
    ['file:///etc/passwd', 'file:'],
    ['data:image/png;base64,iVBORw0KGgo=', 'data:'],
    ['gopher://127.0.0.1:25/', 'gopher:'],
    ['javascript:alert(1)', 'javascript:'],
    ['ws://127.0.0.1/', 'ws:'],
  ])('refuses the scheme of %s', async (url, scheme) => {
    await expectFailure(
      fetcher().fetchImage(url),
      'SCHEME_REFUSED',
      `the scheme ${scheme} is refused`,
    );
    expectNoConnection();
  });

  it.each([
    ['not a url', 'is not a valid absolute URL'],
    ['/image.png', 'is not a valid absolute URL'],
    ['http://', 'is not a valid absolute URL'],
    [`http://public.test/${'a'.repeat(2048)}`, 'longer than 2048 characters'],
  ])('refuses the URL %s', async (url, reason) => {
    await expectFailure(fetcher().fetchImage(url), 'INVALID_URL', reason);
    expectNoConnection();
  });

  it('refuses credentials in the URL', async () => {
    const f = fetcher();
    await expectFailure(
      f.fetchImage(`http://user:secret@127.0.0.1:${port}/image.png`),
      'INVALID_URL',
      'credentials',
    );
    await expectFailure(
      f.fetchImage(`http://user@127.0.0.1:${port}/image.png`),
      'INVALID_URL',
      'credentials',
    );
    await expectFailure(
      f.post(`http://:secret@127.0.0.1:${port}/webhook`, '{}', {}),
      'INVALID_URL',
      'credentials',
    );
    expectNoConnection();
  });
});

describe('fetchImage: redirects, limits and time', () => {
  it('follows a redirect and reports where the image came from', async () => {
    const image = await fetcher().fetchImage(`${origin}/redirect-ok`);
    expect(image.finalUrl).toBe(`${origin}/image.png`);
    expect(image.status).toBe(200);
  });

  it('stops a redirect loop after maxRedirects', async () => {
    await expectFailure(
      fetcher().fetchImage(`${origin}/loop`),
      'TOO_MANY_REDIRECTS',
      'more than 5 redirects',
    );
    expect(hits.get('/loop')).toBe(6); // the first request and five redirects
    await expectFailure(
      fetcher({ maxRedirects: 1 }).fetchImage(`${origin}/loop`),
      'TOO_MANY_REDIRECTS',
    );
    expect(hits.get('/loop')).toBe(8);
  });

  it('refuses a body whose Content-Length is over the limit before reading it', async () => {
    await expectFailure(
      fetcher({ maxBytes: 1000 }).fetchImage(`${origin}/big-declared`),
      'TOO_LARGE',
      `declared ${png.length + 5000} bytes, over the limit of 1000`,
    );
  });

  it('aborts a body that grows over the limit', async () => {
    const f = fetcher();
    await expectFailure(
      f.fetchImage(`${origin}/big-stream`, { maxBytes: 4000 }),
      'TOO_LARGE',
      'sent more than the limit of 4000 bytes',
    );
  });

  it('times out a server that never answers, and one that stops mid-body', async () => {
    const f = fetcher({ timeoutMs: 200 });
    const started = Date.now();
    await expectFailure(
      f.fetchImage(`${origin}/slow`),
      'TIMEOUT',
      'did not complete its answer within 200 ms',
    );
    await expectFailure(
      f.fetchImage(`${origin}/slow-body`),
      'TIMEOUT',
      'did not complete its answer within 200 ms',
    );
    expect(Date.now() - started).toBeLessThan(3000);
    expect(hits.get('/slow')).toBe(1); // a timeout is not retried
  });

  it('times out waiting for the response headers', async () => {
    const f = fetcher({ timeoutMs: 10_000, headersTimeoutMs: 100 });
    await expectFailure(
      f.fetchImage(`${origin}/slow`),
      'TIMEOUT',
      'sent no response within 100 ms',
    );
  });
});

describe('fetchImage: retries', () => {
  it('retries a 503 and succeeds', async () => {
    const retries: RetryEvent[] = [];
    const image = await fetcher({ onRetry: (event) => retries.push(event) }).fetchImage(
      `${origin}/flaky`,
    );
    expect(image.mime).toBe('image/png');
    expect(hits.get('/flaky')).toBe(2);
    expect(retries).toHaveLength(1);
    expect(retries[0]!.attempt).toBe(1);
    expect(retries[0]!.error.status).toBe(503);
  });

  it('gives up after the configured retries with the last status', async () => {
    const error = await expectFailure(
      fetcher({ retries: 2 }).fetchImage(`${origin}/down`),
      'HTTP_ERROR',
      'answered 503',
    );
    expect(error.status).toBe(503);
    expect(error.retryable).toBe(true);
    expect(hits.get('/down')).toBe(3);
  });

  it('waits as long as Retry-After says, up to the cap', async () => {
    const retries: RetryEvent[] = [];
    const f = fetcher({ retryMaxDelayMs: 150, onRetry: (event) => retries.push(event) });
    const started = Date.now();
    await f.fetchImage(`${origin}/busy`);
    // Retry-After: 1 (second), capped at 150 ms; the 1 ms backoff base would not wait at all.
    expect(retries.map((event) => [event.error.status, event.delayMs])).toEqual([[429, 150]]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(hits.get('/busy')).toBe(2);
  });

  it('retries a connection reset', async () => {
    const image = await fetcher().fetchImage(`${origin}/reset`);
    expect(image.mime).toBe('image/png');
    expect(hits.get('/reset')).toBe(2);
  });

  it('does not retry a 404', async () => {
    const error = await expectFailure(
      fetcher().fetchImage(`${origin}/missing`),
      'HTTP_ERROR',
      'answered 404',
    );
    expect(error.status).toBe(404);
    expect(error.retryable).toBe(false);
    expect(hits.get('/missing')).toBe(1);
  });

  it('does not retry a refused address', async () => {
    const retries: RetryEvent[] = [];
    await expectFailure(
      strict({ onRetry: (event) => retries.push(event) }).fetchImage('http://10.0.0.5/'),
      'ADDRESS_REFUSED',
    );
    expect(retries).toEqual([]);
  });
});

describe('per-host concurrency', () => {
  it('never has more than perHostConcurrency requests in flight to one host', async () => {
    const f = fetcher({ perHostConcurrency: 2 });
    const images = await Promise.all(
      Array.from({ length: 8 }, (_, i) => f.fetchImage(`${origin}/counted?n=${i}`)),
    );
    expect(images).toHaveLength(8);
    expect(maxActive).toBe(2);
  });

  it('serves the waiting requests first come, first served', async () => {
    const f = fetcher({ perHostConcurrency: 1 });
    await Promise.all(
      Array.from({ length: 5 }, (_, i) => f.fetchImage(`${origin}/counted?n=${i}`)),
    );
    expect(maxActive).toBe(1);
    expect(seen.map((request) => request.path)).toEqual(
      [0, 1, 2, 3, 4].map((n) => `/counted?n=${n}`),
    );
  });

  it('counts each host on its own', async () => {
    const f = fetcher({
      perHostConcurrency: 1,
      allow: parseAllowList(['127.0.0.1', 'alias.test']),
      lookup: stubLookup({ 'alias.test': ['127.0.0.1'] }),
    });
    await Promise.all([
      f.fetchImage(`${origin}/counted?n=1`),
      f.fetchImage(`http://alias.test:${port}/counted?n=2`),
    ]);
    expect(maxActive).toBe(2);
  });
});

describe('post (webhooks)', () => {
  it("sends the body with the caller's headers and returns the status and a snippet", async () => {
    const result = await fetcher().post(`${origin}/webhook`, '{"event":"ping"}', {
      'Content-Type': 'application/json',
      'webhook-id': 'msg_1',
      'Content-Length': '999', // framing is ours
    });
    expect(result).toEqual({
      status: 200,
      bodySnippet: JSON.stringify({ method: 'POST', body: '{"event":"ping"}' }),
    });
    const request = seen[0]!;
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.headers['webhook-id']).toBe('msg_1');
    expect(request.headers['content-length']).toBe('16');
    expect(request.headers['user-agent']).toBe(USER_AGENT);
  });

  it('keeps only the first KiB of the answer', async () => {
    const result = await fetcher().post(`${origin}/webhook-long`, Buffer.from('x'), {});
    expect(result.bodySnippet).toBe('x'.repeat(1024));
  });

  it('does not follow a redirect: it fails with its status', async () => {
    const error = await expectFailure(
      fetcher().post(`${origin}/webhook-redirect`, '{}', {}),
      'HTTP_ERROR',
      'answered 307, a redirect (not followed for webhooks)',
    );
    expect(error.status).toBe(307);
    expect(hits.get('/webhook')).toBeUndefined();
  });

  it('does not retry an error status, and keeps the answer for the log', async () => {
    const error = await expectFailure(
      fetcher().post(`${origin}/webhook-error`, '{}', {}),
      'HTTP_ERROR',
    );
    expect(error.status).toBe(500);
    expect(error.bodySnippet).toBe('oops');
    expect(error.retryable).toBe(true); // for the caller's schedule
    expect(hits.get('/webhook-error')).toBe(1);
  });

  it('applies the same address checks', async () => {
    await expectFailure(
      strict().post('http://169.254.169.254/hook', '{}', {}),
      'ADDRESS_REFUSED',
      'link-local',
    );
    await expectFailure(
      strict().post('http://mixed.test/hook', '{}', {}),
      'ADDRESS_REFUSED',
      '10.0.0.5',
    );
    await expectFailure(
      strict().post('http://2130706433/hook', '{}', {}),
      'ADDRESS_REFUSED',
      'loopback',
    );
    await expectFailure(strict().post('ftp://hooks.example/', '{}', {}), 'SCHEME_REFUSED');
    expectNoConnection();
  });
});

describe('options and close', () => {
  it('refuses nonsense settings at creation', () => {
    expect(() => createSafeFetcher({ perHostConcurrency: 0 })).toThrow(
      'perHostConcurrency must be an integer >= 1',
    );
    expect(() => createSafeFetcher({ timeoutMs: 1.5 })).toThrow(
      'timeoutMs must be an integer >= 1',
    );
    expect(() => createSafeFetcher({ retries: -1 })).toThrow('retries must be an integer >= 0');
  });

  it('ends what is in flight or waiting and refuses new requests once closed', async () => {
    const f = fetcher({ perHostConcurrency: 1 });
    const inFlight = f.fetchImage(`${origin}/slow`);
    const queued = f.fetchImage(`${origin}/image.png`);
    await vi.waitFor(() => {
      expect(hits.get('/slow')).toBe(1);
    });
    await f.close();
    await expectFailure(inFlight, 'UNREACHABLE', 'the fetcher is closed');
    await expectFailure(queued, 'UNREACHABLE', 'the fetcher is closed');
    await expectFailure(
      f.fetchImage(`${origin}/image.png`),
      'UNREACHABLE',
      'the fetcher is closed',
    );
    expect(hits.get('/image.png')).toBeUndefined();
  });

  it('ends a retry wait when closed', async () => {
    const f = fetcher({ retryBaseMs: 60_000, retryMaxDelayMs: 60_000 });
    const waiting = f.fetchImage(`${origin}/down`);
    await vi.waitFor(() => {
      expect(hits.get('/down')).toBe(1);
    });
    await f.close();
    await expectFailure(waiting, 'UNREACHABLE', 'the fetcher is closed');
  });
});
