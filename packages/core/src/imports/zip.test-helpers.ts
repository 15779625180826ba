import { crc32, deflateRawSync } from 'node:zlib';

/**
 * One entry of a test ZIP. The fields past `data` exist to build archives no honest tool
 * writes: a declared size that lies, a wrong CRC, a name no extractor should accept.
 */
export interface TestZipEntry {
  /** Written as given: `../evil.png`, `a\\b` and `/etc/passwd` included. */
  name: string;
  data?: Buffer | string;
  /** Default 'deflate'. */
  method?: 'store' | 'deflate';
  /** The uncompressed size to declare instead of the real one. */
  declaredSize?: number;
  /** The CRC-32 to declare instead of the real one. */
  crc?: number;
  /** Unix mode bits for the external attributes (e.g. 0o120777 for a symbolic link). */
  unixMode?: number;
  /** Set the UTF-8 name flag (default true). */
  utf8?: boolean;
}

export interface TestZipOptions {
  /** The entry count the end-of-central-directory record declares instead of the real one. */
  declaredEntryCount?: number;
}

/**
 * A ZIP archive in memory: local headers, data, central directory and end record, no ZIP64,
 * no data descriptors. Small enough to trust, so tests need no zip writer package.
 */
export function buildZip(entries: TestZipEntry[], options: TestZipOptions = {}): Buffer {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const data =
      typeof entry.data === 'string' ? Buffer.from(entry.data) : (entry.data ?? Buffer.alloc(0));
    const method = entry.method === 'store' ? 0 : 8;
    const body = method === 8 ? deflateRawSync(data) : data;
    const name = Buffer.from(entry.name, 'utf8');
    const flags = entry.utf8 === false ? 0 : 0x800;
    const crc = entry.crc ?? crc32(data);
    const size = entry.declaredSize ?? data.length;
    const dosTime = 0;
    const dosDate = ((2024 - 1980) << 9) | (1 << 5) | 1;

    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed
    local.writeUInt16LE(flags, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt16LE(dosTime, 10);
    local.writeUInt16LE(dosDate, 12);
    local.writeUInt32LE(crc >>> 0, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28); // extra length
    parts.push(local, name, body);

    const header = Buffer.alloc(46);
    header.writeUInt32LE(0x02014b50, 0);
    header.writeUInt16LE((3 << 8) | 20, 4); // made by Unix, so the mode bits mean something
    header.writeUInt16LE(20, 6);
    header.writeUInt16LE(flags, 8);
    header.writeUInt16LE(method, 10);
    header.writeUInt16LE(dosTime, 12);
    header.writeUInt16LE(dosDate, 14);
    header.writeUInt32LE(crc >>> 0, 16);
    header.writeUInt32LE(body.length, 20);
    header.writeUInt32LE(size, 24);
    header.writeUInt16LE(name.length, 28);
    header.writeUInt16LE(0, 30); // extra length
    header.writeUInt16LE(0, 32); // comment length
    header.writeUInt16LE(0, 34); // disk number
    header.writeUInt16LE(0, 36); // internal attributes
    const mode = entry.unixMode ?? (entry.name.endsWith('/') ? 0o040755 : 0o100644);
    header.writeUInt32LE((mode << 16) >>> 0, 38);
    header.writeUInt32LE(offset, 42);
    central.push(header, name);

    offset += local.length + name.length + body.length;
  }
  const centralDirectory = Buffer.concat(central);
  const count = options.declaredEntryCount ?? entries.length;
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(0, 4); // this disk
  end.writeUInt16LE(0, 6); // disk with the central directory
  end.writeUInt16LE(count, 8);
  end.writeUInt16LE(count, 10);
  end.writeUInt32LE(centralDirectory.length, 12);
  end.writeUInt32LE(offset, 16);
  end.writeUInt16LE(0, 20); // comment length
  return Buffer.concat([...parts, centralDirectory, end]);
}
