import dns, { type LookupAddress, type LookupAllOptions } from 'node:dns';
import http, { type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { sniffImageType, type ImageMime } from '@lookalike/inference';
import { checkAddress, parseAllowList, type AllowList } from './address-policy.js';

export type FetchErrorCode =
  | 'INVALID_URL'
  | 'SCHEME_REFUSED'
  | 'ADDRESS_REFUSED'
  | 'TOO_MANY_REDIRECTS'
  | 'TOO_LARGE'
  | 'TIMEOUT'
  | 'HTTP_ERROR'
  | 'NOT_AN_IMAGE'
  | 'UNREACHABLE';

export interface FetchErrorDetails {
  /** The URL of the request that failed (after redirects), when there was one. */
  url?: string;
  /** The response status, for HTTP_ERROR. */
  status?: number;
  /** The first KiB of the response body, for a webhook answered with an error. */
  bodySnippet?: string;
  /** Whether trying again later may succeed: 429, 5xx, a reset connection, a DNS hiccup. */
  retryable?: boolean;
  /** How long the server asked us to wait (Retry-After), in milliseconds. */
  retryAfterMs?: number;
  cause?: unknown;
}

/** An expected failure of a fetch: `code` for programs, `reason` for people. */
export class FetchError extends Error {
  readonly url: string | undefined;
  readonly status: number | undefined;
  readonly bodySnippet: string | undefined;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;

  constructor(
    readonly code: FetchErrorCode,
    readonly reason: string,
    details: FetchErrorDetails = {},
  ) {
    super(reason, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'FetchError';
    this.url = details.url;
    this.status = details.status;
    this.bodySnippet = details.bodySnippet;
    this.retryable = details.retryable ?? false;
    this.retryAfterMs = details.retryAfterMs;
  }
}

/** `dns.lookup` called with `{ all: true }`: every address of a name. */
export type LookupAll = (
  hostname: string,
  options: LookupAllOptions,
  callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

/** A connection about to be opened, to an address that passed the checks. */
export interface ConnectTarget {
  /** The URL's host name (what TLS verifies), or the address for an IP-literal URL. */
  host: string;
  /** The address the socket connects to: exactly the one that was checked. */
  address: string;
  port: number;
  tls: boolean;
}

export interface RetryEvent {
  url: string;
  /** 1 for the first retry. */
  attempt: number;
  delayMs: number;
  error: FetchError;
}

export interface SafeFetcherOptions {
  /** Hosts and addresses let through despite the range rules; nothing by default. */
  allow?: AllowList;
  /** Resolver, `dns.lookup` by default (tests stub it). */
  lookup?: LookupAll;
  /** Largest body accepted, in bytes; 20 MiB by default. */
  maxBytes?: number;
  /** Longest one request may take, from the DNS lookup to its last byte; 15 s by default. */
  timeoutMs?: number;
  /** Longest until a request's response headers arrive; 10 s by default (at most timeoutMs). */
  headersTimeoutMs?: number;
  /** Redirects followed by fetchImage; 5 by default. */
  maxRedirects?: number;
  /** Retries of fetchImage after a 429, a 5xx or a reset connection; 3 by default. */
  retries?: number;
  /** First backoff delay, doubled on each retry; 250 ms by default. */
  retryBaseMs?: number;
  /** Longest wait before a retry, Retry-After included; 30 s by default. */
  retryMaxDelayMs?: number;
  /** Requests in flight to one host at a time; 4 by default. */
  perHostConcurrency?: number;
  /**
   * Called just before a socket is opened, with the vetted address. Throwing refuses the
   * connection. Tests use it to prove that a refused address is never dialled.
   */
  onConnect?: (target: ConnectTarget) => void;
  /** Called before each retry (for logs). */
  onRetry?: (event: RetryEvent) => void;
}

export interface FetchImageOptions {
  maxBytes?: number;
  timeoutMs?: number;
}

export interface PostOptions {
  timeoutMs?: number;
}

export interface FetchedImage {
  bytes: Buffer;
  /** Sniffed from the bytes, never taken from Content-Type. */
  mime: ImageMime;
  /** The URL the image came from, after redirects. */
  finalUrl: string;
  status: number;
}

export interface PostResult {
  status: number;
  /** The first KiB of the response body, decoded as UTF-8. */
  bodySnippet: string;
}

export interface SafeFetcher {
  fetchImage(url: string, options?: FetchImageOptions): Promise<FetchedImage>;
  post(
    url: string,
    body: string | Uint8Array,
    headers: Readonly<Record<string, string>>,
    options?: PostOptions,
  ): Promise<PostResult>;
  /** Aborts what is in flight or queued (UNREACHABLE, "closed") and refuses new requests. */
  close(): Promise<void>;
}

export const USER_AGENT = 'Lookalike/1.0 (+image fetcher)';

// Long enough for signed CDN URLs, short enough that a URL is not a payload of its own; 2048 is
// also what many proxies and browsers have historically accepted.
const MAX_URL_LENGTH = 2048;
const SNIPPET_BYTES = 1024;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
// Errors on which the next resolved address may work where this one did not (a v6 address on a
// host without v6 routes, one dead node behind a round-robin name).
const NEXT_ADDRESS_ERRORS = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'EADDRNOTAVAIL',
]);
// A peer that drops a connection mid-way is usually restarting or overloaded: worth a retry.
const RESET_ERRORS = new Set(['ECONNRESET', 'EPIPE']);

const DEFAULTS = {
  maxBytes: 20 * 1024 * 1024,
  timeoutMs: 15_000,
  // A static image server that needs more than 10 s to start answering is not healthy; the
  // rest of timeoutMs is left for the body.
  headersTimeoutMs: 10_000,
  maxRedirects: 5,
  retries: 3,
  retryBaseMs: 250,
  retryMaxDelayMs: 30_000,
  perHostConcurrency: 4,
};

type Settings = typeof DEFAULTS;

// Zero is meaningful for these (no retries, no redirects, retry at once); the others must be
// at least 1.
const MAY_BE_ZERO = new Set<keyof Settings>([
  'maxRedirects',
  'retries',
  'retryBaseMs',
  'retryMaxDelayMs',
]);

function settingsFrom(options: SafeFetcherOptions): Settings {
  const settings = { ...DEFAULTS };
  for (const key of Object.keys(DEFAULTS) as (keyof Settings)[]) {
    const value = options[key];
    if (value === undefined) continue;
    const min = MAY_BE_ZERO.has(key) ? 0 : 1;
    if (!Number.isSafeInteger(value) || value < min) {
      throw new Error(`createSafeFetcher: ${key} must be an integer >= ${min}, got ${value}`);
    }
    settings[key] = value;
  }
  return settings;
}

/** A URL we are willing to request, or the FetchError saying why not. */
function parseTarget(raw: string, base?: URL): URL {
  if (raw.length > MAX_URL_LENGTH) {
    throw new FetchError('INVALID_URL', `the URL is longer than ${MAX_URL_LENGTH} characters`);
  }
  let url: URL;
  try {
    url = new URL(raw, base);
  } catch {
    throw new FetchError('INVALID_URL', `"${raw.slice(0, 200)}" is not a valid absolute URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new FetchError(
      'SCHEME_REFUSED',
      `the scheme ${url.protocol} is refused (only http: and https: are fetched)`,
      { url: url.protocol === 'data:' ? undefined : url.href.slice(0, 200) },
    );
  }
  // Credentials in a URL end up in logs and would be replayed to whatever host a redirect names.
  if (url.username !== '' || url.password !== '') {
    throw new FetchError('INVALID_URL', 'credentials in the URL are refused');
  }
  // A relative redirect can make a short URL long.
  if (url.href.length > MAX_URL_LENGTH) {
    throw new FetchError('INVALID_URL', `the URL is longer than ${MAX_URL_LENGTH} characters`);
  }
  return url;
}

/** The address of an IP-literal host, as WHATWG URL normalised it, or null for a name. */
function literalAddress(hostname: string): string | null {
  if (hostname.startsWith('[') && hostname.endsWith(']')) return hostname.slice(1, -1);
  // WHATWG URL has already turned 2130706433, 0177.0.0.1, 0x7f.1 and 127.1 into 127.0.0.1.
  return net.isIPv4(hostname) ? hostname : null;
}

function retryAfterMs(header: string | undefined, now = Date.now()): number | undefined {
  if (header === undefined) return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function httpError(url: URL, res: IncomingMessage, why: string, bodySnippet?: string): FetchError {
  const status = res.statusCode ?? 0;
  const retryable = status === 429 || status >= 500;
  return new FetchError('HTTP_ERROR', `${url.host} answered ${status}${why}`, {
    url: url.href,
    status,
    bodySnippet,
    retryable,
    retryAfterMs: retryable ? retryAfterMs(res.headers['retry-after']) : undefined,
  });
}

/** Node's socket, TLS and parser errors as FetchErrors; FetchErrors as they are. */
function toFetchError(error: unknown, url: URL): FetchError {
  if (error instanceof FetchError) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code ?? '';
  const message = error instanceof Error ? error.message : String(error);
  const host = url.host;
  const details = { url: url.href, cause: error };
  if (RESET_ERRORS.has(code)) {
    return new FetchError('UNREACHABLE', `the connection to ${host} was reset`, {
      ...details,
      retryable: true,
    });
  }
  if (code === 'ECONNREFUSED') {
    return new FetchError('UNREACHABLE', `${host} refused the connection`, details);
  }
  if (code.startsWith('HPE_')) {
    return new FetchError('UNREACHABLE', `${host} sent a malformed HTTP response`, details);
  }
  if (/CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO/.test(code)) {
    return new FetchError('UNREACHABLE', `TLS with ${host} failed: ${message}`, details);
  }
  return new FetchError('UNREACHABLE', `could not reach ${host}: ${message}`, details);
}

/**
 * Requests waiting for a host take turns: at most `limit` in flight per host, the others served
 * first come, first served. Idle hosts are forgotten, so the map only holds busy ones.
 */
class HostLimiter {
  private readonly hosts = new Map<
    string,
    { active: number; queue: { grant: () => void; refuse: (error: Error) => void }[] }
  >();

  constructor(private readonly limit: number) {}

  async acquire(host: string): Promise<() => void> {
    let entry = this.hosts.get(host);
    if (!entry) {
      entry = { active: 0, queue: [] };
      this.hosts.set(host, entry);
    }
    const slot = entry;
    if (slot.active < this.limit) {
      slot.active += 1;
    } else {
      await new Promise<void>((grant, refuse) => slot.queue.push({ grant, refuse }));
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = slot.queue.shift();
      // The slot passes straight to the next in line: `active` stays the same.
      if (next) {
        next.grant();
        return;
      }
      slot.active -= 1;
      if (slot.active === 0) this.hosts.delete(host);
    };
  }

  refuseWaiting(error: Error): void {
    for (const entry of this.hosts.values()) {
      for (const waiter of entry.queue.splice(0)) waiter.refuse(error);
    }
  }
}

interface Outgoing {
  method: 'GET' | 'POST';
  headers: OutgoingHttpHeaders;
  body?: string | Uint8Array;
  timeoutMs: number;
}

/**
 * An HTTP client for URLs that come from outside (catalog image URLs, webhook endpoints): only
 * http(s), only public unicast addresses unless allowed, the address checked is the address
 * connected to (it resolves names itself and dials the vetted address, so a DNS answer that
 * changes between check and connect cannot slip through), bounded in size, time, redirects and
 * per-host concurrency. Keep-alive is off: every request opens its own vetted connection.
 */
export function createSafeFetcher(options: SafeFetcherOptions = {}): SafeFetcher {
  const settings = settingsFrom(options);
  const allow = options.allow ?? parseAllowList([]);
  const lookup: LookupAll = options.lookup ?? dns.lookup;
  const limiter = new HostLimiter(settings.perHostConcurrency);
  const inFlight = new Set<AbortController>();
  const sleeps = new Set<() => void>();
  const calls = new Set<Promise<unknown>>();
  let closed = false;
  const closedError = () => new FetchError('UNREACHABLE', 'the fetcher is closed');

  function resolveAll(hostname: string, signal: AbortSignal): Promise<LookupAddress[]> {
    return new Promise((resolve, reject) => {
      // dns.lookup cannot be cancelled; a timeout or close stops waiting for it.
      const onAbort = () => {
        reject(signal.reason as Error);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      lookup(hostname, { all: true }, (error, addresses) => {
        signal.removeEventListener('abort', onAbort);
        if (!error && addresses.length > 0) {
          resolve(addresses);
          return;
        }
        const code = error?.code;
        const transient = code === 'EAI_AGAIN';
        const why =
          code === 'ENOTFOUND' || code === 'ENODATA' || !error
            ? `host ${hostname} not found`
            : `DNS lookup of ${hostname} failed (${code ?? error.message})`;
        reject(new FetchError('UNREACHABLE', why, { retryable: transient, cause: error }));
      });
    });
  }

  /** Every address the URL's host stands for, each of them checked; refused if any is not. */
  async function vettedAddresses(url: URL, signal: AbortSignal): Promise<LookupAddress[]> {
    const literal = literalAddress(url.hostname);
    const addresses = literal
      ? [{ address: literal, family: net.isIPv6(literal) ? 6 : 4 }]
      : await resolveAll(url.hostname, signal);
    // All of them, not the first: the socket may try any, and a name that mixes a public and a
    // private address is either misconfigured or an attack.
    for (const { address } of addresses) {
      const verdict = checkAddress(address, allow, literal ? undefined : url.hostname);
      if (!verdict.allowed) {
        throw new FetchError('ADDRESS_REFUSED', verdict.reason, { url: url.href });
      }
    }
    return addresses;
  }

  /** Opens a socket to the first vetted address that accepts, TLS included for https. */
  function connect(
    url: URL,
    addresses: readonly LookupAddress[],
    signal: AbortSignal,
    done: (error: Error | null, socket: Duplex) => void,
  ): void {
    const secure = url.protocol === 'https:';
    const port = Number(url.port) || (secure ? 443 : 80);
    const literal = literalAddress(url.hostname);
    const host = literal ?? url.hostname;
    let index = 0;
    const fail = (error: unknown) => {
      done(error instanceof Error ? error : new Error(String(error)), undefined as never);
    };
    const attempt = (previous?: Error): void => {
      const next = addresses[index++];
      if (signal.aborted) {
        fail(signal.reason);
        return;
      }
      if (!next) {
        fail(previous ?? new Error(`no address for ${host}`));
        return;
      }
      try {
        options.onConnect?.({ host, address: next.address, port, tls: secure });
      } catch (error) {
        fail(error);
        return;
      }
      const socket = secure
        ? tls.connect({
            host: next.address,
            port,
            // TLS verifies the certificate against the name in the URL, not the address we
            // dialled; SNI may not carry an IP address (RFC 6066).
            servername: literal ? undefined : url.hostname,
            ALPNProtocols: ['http/1.1'],
          })
        : net.connect({ host: next.address, port });
      const onAbort = () => socket.destroy(signal.reason as Error);
      const cleanup = () => {
        signal.removeEventListener('abort', onAbort);
        socket.removeListener('error', onError);
      };
      const onError = (error: NodeJS.ErrnoException) => {
        cleanup();
        socket.destroy();
        if (signal.aborted) {
          fail(signal.reason);
          return;
        }
        if (NEXT_ADDRESS_ERRORS.has(error.code ?? '')) {
          attempt(error);
          return;
        }
        fail(error);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      socket.once('error', onError);
      socket.once(secure ? 'secureConnect' : 'connect', () => {
        cleanup();
        done(null, socket);
      });
    };
    attempt();
  }

  function send(
    url: URL,
    addresses: readonly LookupAddress[],
    outgoing: Outgoing,
    signal: AbortSignal,
  ): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const req = http.request({
        method: outgoing.method,
        host: literalAddress(url.hostname) ?? url.hostname,
        port: Number(url.port) || (url.protocol === 'https:' ? 443 : 80),
        path: `${url.pathname}${url.search}`,
        // url.host: brackets around v6, the port only when it is not the default.
        headers: { ...outgoing.headers, host: url.host },
        createConnection: (_options, oncreate) => {
          connect(url, addresses, signal, oncreate);
          return undefined;
        },
      });
      const onAbort = () => req.destroy(signal.reason as Error);
      signal.addEventListener('abort', onAbort, { once: true });
      // `on`, not `once`: an aborted request can report a second error (the connection attempt
      // failing after destroy), and an unheard 'error' would crash the process.
      req.on('error', (error) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      });
      req.once('response', (res) => {
        signal.removeEventListener('abort', onAbort);
        // Errors of the body reach whoever reads it; this keeps one after the reader has gone
        // from being unheard.
        res.on('error', () => undefined);
        // From here a timeout or close ends the body instead.
        if (signal.aborted) res.destroy(signal.reason as Error);
        else
          signal.addEventListener('abort', () => res.destroy(signal.reason as Error), {
            once: true,
          });
        resolve(res);
      });
      req.end(outgoing.body);
    });
  }

  /**
   * One request to one URL, holding a slot of its host throughout: resolve and check, connect,
   * send, and `read` the response. Both timeouts run from when the slot is granted: waiting in
   * the queue is not the remote host's slowness.
   */
  async function exchange<T>(
    url: URL,
    outgoing: Outgoing,
    read: (res: IncomingMessage) => Promise<T>,
  ): Promise<T> {
    const release = await limiter.acquire(url.hostname);
    const hop = new AbortController();
    inFlight.add(hop);
    const timeoutMs = outgoing.timeoutMs;
    const headersMs = Math.min(settings.headersTimeoutMs, timeoutMs);
    const details = { url: url.href };
    const overall = setTimeout(() => {
      hop.abort(
        new FetchError(
          'TIMEOUT',
          `${url.host} did not complete its answer within ${timeoutMs} ms`,
          details,
        ),
      );
    }, timeoutMs);
    const headers = setTimeout(() => {
      hop.abort(
        new FetchError('TIMEOUT', `${url.host} sent no response within ${headersMs} ms`, details),
      );
    }, headersMs);
    try {
      // A slot granted as the fetcher closed: the request must not start.
      if (closed) throw closedError();
      const addresses = await vettedAddresses(url, hop.signal);
      const res = await send(url, addresses, outgoing, hop.signal);
      clearTimeout(headers);
      return await read(res);
    } catch (error) {
      throw toFetchError(error, url);
    } finally {
      clearTimeout(overall);
      clearTimeout(headers);
      inFlight.delete(hop);
      release();
    }
  }

  function sleep(ms: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const cancel = () => {
        clearTimeout(timer);
        reject(closedError());
      };
      const timer = setTimeout(() => {
        sleeps.delete(cancel);
        resolve();
      }, ms);
      sleeps.add(cancel);
    });
  }

  function backoffMs(retry: number): number {
    const ceiling = Math.min(settings.retryMaxDelayMs, settings.retryBaseMs * 2 ** retry);
    // Half fixed, half random: fetchers that failed together (a host's outage) do not all come
    // back at the same instant.
    return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
  }

  async function withRetries<T>(url: string, run: () => Promise<T>): Promise<T> {
    for (let retry = 0; ; retry++) {
      try {
        return await run();
      } catch (error) {
        const retryable = error instanceof FetchError && error.retryable;
        if (!retryable || retry >= settings.retries || closed) throw error;
        const delayMs =
          error.retryAfterMs !== undefined
            ? Math.min(error.retryAfterMs, settings.retryMaxDelayMs)
            : backoffMs(retry);
        options.onRetry?.({ url, attempt: retry + 1, delayMs, error });
        await sleep(delayMs);
      }
    }
  }

  async function readBody(res: IncomingMessage, url: URL, maxBytes: number): Promise<Buffer> {
    const tooLarge = (what: string) =>
      new FetchError('TOO_LARGE', `${url.host} ${what}`, { url: url.href });
    // Refused before a byte of the body is read when the server says how long it is.
    const declared = Number(res.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBytes) {
      res.destroy();
      throw tooLarge(`declared ${declared} bytes, over the limit of ${maxBytes}`);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > maxBytes) {
        res.destroy();
        throw tooLarge(`sent more than the limit of ${maxBytes} bytes`);
      }
      chunks.push(chunk);
    }
    return Buffer.concat(chunks, size);
  }

  async function readSnippet(res: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      size += chunk.length;
      // Leaving the loop destroys the response: the rest is not ours to wait for.
      if (size >= SNIPPET_BYTES) break;
    }
    return new TextDecoder().decode(Buffer.concat(chunks).subarray(0, SNIPPET_BYTES));
  }

  type Hop = { redirect: string } | { image: FetchedImage };

  async function fetchOnce(start: URL, maxBytes: number, timeoutMs: number): Promise<FetchedImage> {
    let url = start;
    for (let redirects = 0; ; redirects++) {
      const current = url;
      const hop = await exchange<Hop>(
        current,
        {
          method: 'GET',
          headers: { 'user-agent': USER_AGENT, accept: 'image/*', 'accept-encoding': 'identity' },
          timeoutMs,
        },
        async (res) => {
          const status = res.statusCode ?? 0;
          if (REDIRECT_STATUSES.has(status)) {
            res.destroy();
            const location = res.headers.location;
            if (!location) throw httpError(current, res, ', a redirect without a Location');
            return { redirect: location };
          }
          if (status < 200 || status > 299) {
            res.destroy();
            throw httpError(current, res, '');
          }
          const bytes = await readBody(res, current, maxBytes);
          const mime = sniffImageType(bytes);
          if (!mime) {
            const declared = res.headers['content-type'] ?? 'no Content-Type';
            throw new FetchError(
              'NOT_AN_IMAGE',
              `${current.host} sent ${bytes.length} bytes that are not an image (${declared})`,
              { url: current.href },
            );
          }
          return { image: { bytes, mime, finalUrl: current.href, status } };
        },
      );
      if ('image' in hop) return hop.image;
      if (redirects >= settings.maxRedirects) {
        throw new FetchError(
          'TOO_MANY_REDIRECTS',
          `more than ${settings.maxRedirects} redirects (the last from ${current.host})`,
          { url: current.href },
        );
      }
      // The next hop is checked like the first: scheme and length here, address at connect.
      url = parseTarget(hop.redirect, current);
    }
  }

  async function fetchImage(raw: string, opts: FetchImageOptions = {}): Promise<FetchedImage> {
    if (closed) throw closedError();
    const url = parseTarget(raw);
    const maxBytes = opts.maxBytes ?? settings.maxBytes;
    const timeoutMs = opts.timeoutMs ?? settings.timeoutMs;
    return withRetries(url.href, () => fetchOnce(url, maxBytes, timeoutMs));
  }

  async function post(
    raw: string,
    body: string | Uint8Array,
    headers: Readonly<Record<string, string>>,
    opts: PostOptions = {},
  ): Promise<PostResult> {
    if (closed) throw closedError();
    const url = parseTarget(raw);
    const outgoingHeaders: OutgoingHttpHeaders = { 'user-agent': USER_AGENT };
    // We frame the message ourselves; a caller's framing headers would contradict it.
    const framing = new Set(['host', 'content-length', 'transfer-encoding', 'connection']);
    for (const [name, value] of Object.entries(headers)) {
      const key = name.toLowerCase();
      if (!framing.has(key)) outgoingHeaders[key] = value;
    }
    outgoingHeaders['content-length'] = Buffer.byteLength(body);
    outgoingHeaders['accept-encoding'] = 'identity';
    // No retries: webhook delivery has its own schedule, and a retry here would be a
    // duplicate delivery whenever the first attempt did arrive.
    return exchange(
      url,
      {
        method: 'POST',
        headers: outgoingHeaders,
        body,
        timeoutMs: opts.timeoutMs ?? settings.timeoutMs,
      },
      async (res) => {
        const status = res.statusCode ?? 0;
        if (status >= 300 && status <= 399) {
          res.destroy();
          // Following would re-send the payload to a place the subscriber did not register.
          throw httpError(url, res, ', a redirect (not followed for webhooks)');
        }
        const bodySnippet = await readSnippet(res);
        if (status < 200 || status > 299) throw httpError(url, res, '', bodySnippet);
        return { status, bodySnippet };
      },
    );
  }

  /** Remembers a public call until it settles, so close() can wait for it. */
  function tracked<T>(call: Promise<T>): Promise<T> {
    calls.add(call);
    const forget = () => calls.delete(call);
    call.then(forget, forget);
    return call;
  }

  return {
    fetchImage: (raw, opts) => tracked(fetchImage(raw, opts)),
    post: (raw, body, headers, opts) => tracked(post(raw, body, headers, opts)),

    async close() {
      closed = true;
      const error = closedError();
      limiter.refuseWaiting(error);
      for (const cancel of sleeps) cancel();
      sleeps.clear();
      for (const hop of inFlight) hop.abort(error);
      await Promise.allSettled([...calls]);
    },
  };
}
