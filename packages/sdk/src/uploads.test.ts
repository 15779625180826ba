import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { packFolder } from './pack.js';
import { toFile } from './uploads.js';

describe('toFile', () => {
  it('reads paths, bytes, Blobs, Node and web streams', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'sdk-'));
    const file = path.join(dir, 'photo.jpg');
    await writeFile(file, 'jpeg bytes');
    const fromPath = await toFile(file);
    expect(fromPath.name).toBe('photo.jpg');
    expect(await fromPath.text()).toBe('jpeg bytes');
    expect(await (await toFile(Buffer.from('abc'), { name: 'a.png' })).text()).toBe('abc');
    expect(await (await toFile(new Blob(['blob']))).text()).toBe('blob');
    expect(await (await toFile(Readable.from([Buffer.from('no'), Buffer.from('de')]))).text()).toBe(
      'node',
    );
    const web = new Blob(['web stream']).stream();
    expect(await (await toFile(web)).text()).toBe('web stream');
  });

  it('refuses a missing path, a folder and a stream past its limit', async () => {
    await expect(toFile('/no/such/file.jpg')).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    await expect(toFile(tmpdir())).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    await expect(toFile(Readable.from([Buffer.alloc(10)]), { maxBytes: 5 })).rejects.toMatchObject({
      code: 'PAYLOAD_TOO_LARGE',
    });
  });

  it('fetches URLs (loopback here), with its name and a byte limit', async () => {
    const server = createServer((_req, res) =>
      res.writeHead(200, { 'content-type': 'image/png' }).end('png!'),
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const f = await toFile(`${base}/img/shoe.png`);
      expect(f.name).toBe('shoe.png');
      expect(f.type).toBe('image/png');
      expect(await f.text()).toBe('png!');
      await expect(toFile(new URL(`${base}/x`), { maxBytes: 2 })).rejects.toMatchObject({
        code: 'PAYLOAD_TOO_LARGE',
      });
    } finally {
      await new Promise<void>((r) =>
        server.close(() => {
          r();
        }),
      );
    }
  });
});

describe('packFolder', () => {
  it('packs catalog.csv and its images into a stored ZIP', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'sdk-pack-'));
    await writeFile(path.join(dir, 'catalog.csv'), 'externalId,title,imageUrls\nA,a,img/a.png\n');
    await import('node:fs/promises').then((fs) => fs.mkdir(path.join(dir, 'img')));
    await writeFile(path.join(dir, 'img', 'a.png'), 'PNGDATA');
    await writeFile(path.join(dir, '.DS_Store'), 'junk');
    const zip = await packFolder(dir);
    // Local header of the first entry (sorted: catalog.csv), then the central directory.
    expect(zip.readUInt32LE(0)).toBe(0x04034b50);
    expect(zip.subarray(30, 30 + 'catalog.csv'.length).toString()).toBe('catalog.csv');
    const end = zip.subarray(zip.length - 22);
    expect(end.readUInt32LE(0)).toBe(0x06054b50);
    expect(end.readUInt16LE(10)).toBe(2); // .DS_Store left out
    const crc = zip.readUInt32LE(14);
    expect(crc).toBe(crc32(Buffer.from('externalId,title,imageUrls\nA,a,img/a.png\n')));
    expect(zip.includes(Buffer.from('img/a.png'))).toBe(true);
  });

  it('refuses a folder without a catalog file', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'sdk-pack-'));
    await writeFile(path.join(dir, 'a.png'), 'x');
    await expect(packFolder(dir)).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
  });
});
