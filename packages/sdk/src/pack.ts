// A catalog folder (catalog.csv or catalog.jsonl and the image files its rows name, by path
// relative to the folder) packed into the ZIP the API imports: `importCatalog('catalog/')` and
// `lookalike import catalog/`. Entries are stored (images are compressed
// already), in memory: the API takes at most 100 MiB per file by default.
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { LookalikeError } from './errors.js';

export const CATALOG_FILES = ['catalog.csv', 'catalog.jsonl'];
/** The API's default MAX_IMPORT_BYTES; a larger folder is refused before anything is sent. */
const MAX_BYTES = 100 * 1024 * 1024;
const MAX_ENTRIES = 20_000;

async function walk(dir: string, base = ''): Promise<string[]> {
  const names: string[] = [];
  for (const entry of await readdir(path.join(dir, base), { withFileTypes: true })) {
    const rel = base ? `${base}/${entry.name}` : entry.name;
    if (entry.name.startsWith('.')) continue;
    if (entry.isDirectory()) names.push(...(await walk(dir, rel)));
    else if (entry.isFile()) names.push(rel);
  }
  return names;
}

/** The folder as one ZIP archive (no ZIP64: at most 100 MiB and 20,000 files). */
export async function packFolder(dir: string): Promise<Buffer> {
  const names = (await walk(dir)).sort();
  if (!names.some((n) => CATALOG_FILES.includes(n)))
    throw new LookalikeError(
      `${dir} has no catalog.csv or catalog.jsonl at its top`,
      'BAD_USER_INPUT',
      0,
    );
  if (names.length > MAX_ENTRIES)
    throw new LookalikeError(
      `${dir} holds ${names.length} files; an import takes at most ${MAX_ENTRIES}`,
      'BAD_USER_INPUT',
      0,
    );
  let total = 0;
  for (const n of names) total += (await stat(path.join(dir, n))).size;
  if (total > MAX_BYTES)
    throw new LookalikeError(
      `${dir} holds ${total} bytes; an import takes at most ${MAX_BYTES}`,
      'PAYLOAD_TOO_LARGE',
      0,
    );

  const local: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const name of names) {
    const data = await readFile(path.join(dir, name));
    const nameBytes = Buffer.from(name, 'utf8');
    const crc = crc32(data);
    const header = Buffer.alloc(30);
    header.writeUInt32LE(0x04034b50, 0);
    header.writeUInt16LE(20, 4); // version needed
    header.writeUInt16LE(0x0800, 6); // UTF-8 names
    header.writeUInt16LE(0, 8); // stored
    header.writeUInt32LE(0, 10); // time, date
    header.writeUInt32LE(crc, 14);
    header.writeUInt32LE(data.length, 18);
    header.writeUInt32LE(data.length, 22);
    header.writeUInt16LE(nameBytes.length, 26);
    header.writeUInt16LE(0, 28);
    const entry = Buffer.alloc(46);
    entry.writeUInt32LE(0x02014b50, 0);
    entry.writeUInt16LE(0x0314, 4); // made by: Unix, 2.0
    entry.writeUInt16LE(20, 6);
    entry.writeUInt16LE(0x0800, 8);
    entry.writeUInt16LE(0, 10);
    entry.writeUInt32LE(0, 12);
    entry.writeUInt32LE(crc, 16);
    entry.writeUInt32LE(data.length, 20);
    entry.writeUInt32LE(data.length, 24);
    entry.writeUInt16LE(nameBytes.length, 28);
    entry.writeUInt32LE(0, 30); // extra, comment lengths
    entry.writeUInt32LE(0, 34); // disk, internal attributes
    entry.writeUInt32LE((0o100644 << 16) >>> 0, 38); // a regular file
    entry.writeUInt32LE(offset, 42);
    local.push(header, nameBytes, data);
    central.push(entry, nameBytes);
    offset += header.length + nameBytes.length + data.length;
  }
  const centralSize = central.reduce((n, b) => n + b.length, 0);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(names.length, 8);
  end.writeUInt16LE(names.length, 10);
  end.writeUInt32LE(centralSize, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...local, ...central, end]);
}
