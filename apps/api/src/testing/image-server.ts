import http from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';

/** A distinct small PNG per index: a coloured field with a block whose place and size vary. */
export async function testImage(i: number): Promise<Buffer> {
  const hue = (i * 47) % 360;
  const [r, g, b] = [hue, (hue + 120) % 360, (hue + 240) % 360].map((h) =>
    Math.round(127 + 127 * Math.cos((h * Math.PI) / 180)),
  ) as [number, number, number];
  const size = 16 + (i % 5) * 8;
  const block = await sharp({
    create: {
      width: size,
      height: size,
      channels: 3,
      background: { r: 255 - r, g: 255 - g, b: 255 - b },
    },
  })
    .png()
    .toBuffer();
  return sharp({ create: { width: 96, height: 96, channels: 3, background: { r, g, b } } })
    .composite([{ input: block, left: (i * 13) % (96 - size), top: (i * 29) % (96 - size) }])
    .png()
    .toBuffer();
}

export interface ImageServer {
  url: string;
  /** Requests seen per path. */
  hits: Map<string, number>;
  close(): Promise<void>;
}

/**
 * A local image host for import tests: `/img/<n>.png` a distinct PNG, `/corrupt/<n>.png` a
 * truncated one, `/text/<n>.png` HTML, `/missing/<n>.png` 404, `/flaky/<n>.png` 503 once then
 * the image. Loopback only.
 */
export async function startImageServer(): Promise<ImageServer> {
  const hits = new Map<string, number>();
  const cache = new Map<number, Buffer>();
  const image = async (n: number) => {
    let b = cache.get(n);
    if (!b) {
      b = await testImage(n);
      cache.set(n, b);
    }
    return b;
  };
  const server = http.createServer((req, res) => {
    const path = req.url ?? '/';
    const seen = (hits.get(path) ?? 0) + 1;
    hits.set(path, seen);
    const m = /^\/(img|corrupt|text|missing|flaky)\/(\d+)\.png$/.exec(path);
    if (!m) {
      res.writeHead(404).end();
      return;
    }
    const n = Number(m[2]);
    void (async () => {
      switch (m[1]) {
        case 'img':
          res.writeHead(200, { 'content-type': 'image/png' }).end(await image(n));
          return;
        case 'corrupt':
          res.writeHead(200, { 'content-type': 'image/png' }).end((await image(n)).subarray(0, 60));
          return;
        case 'text':
          res.writeHead(200, { 'content-type': 'image/png' }).end('<html>not an image</html>');
          return;
        case 'flaky':
          if (seen === 1) res.writeHead(503).end();
          else res.writeHead(200, { 'content-type': 'image/png' }).end(await image(n));
          return;
        default:
          res.writeHead(404).end();
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}

/** A webhook receiver: records every delivery (headers and raw body); `status` decides answers. */
export async function startReceiver(status: (n: number, body: string) => number = () => 200) {
  const received: { headers: Record<string, string>; body: string; answered: number }[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const answered = status(received.length + 1, body);
      received.push({
        headers: Object.fromEntries(
          Object.entries(req.headers).map(([k, v]) => [
            k,
            Array.isArray(v) ? v.join(',') : (v ?? ''),
          ]),
        ),
        body,
        answered,
      });
      res.writeHead(answered).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}
