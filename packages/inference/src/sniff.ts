/** Image types the embedder decodes. SVG and PDF are deliberately absent: they are documents
 * (scripts, external references, unbounded render cost), not photos. */
export type ImageMime =
  | 'image/jpeg'
  | 'image/png'
  | 'image/gif'
  | 'image/webp'
  | 'image/tiff'
  | 'image/avif'
  | 'image/heic';

export const SUPPORTED_MIME_TYPES: readonly ImageMime[] = [
  'image/jpeg',
  'image/png',
  'image/gif',
  'image/webp',
  'image/tiff',
  'image/avif',
];

function ascii(bytes: Uint8Array, start: number, length: number): string {
  if (bytes.length < start + length) return '';
  return String.fromCharCode(...bytes.subarray(start, start + length));
}

/**
 * The real type of an image from its leading bytes (never from a name or a Content-Type header),
 * or null. HEIC is recognised so it can be refused with a precise message: sharp's prebuilt
 * libvips decodes AVIF but not HEVC-coded HEIC.
 */
export function sniffImageType(bytes: Uint8Array): ImageMime | null {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) {
    return 'image/jpeg';
  }
  if (ascii(bytes, 0, 8) === '\x89PNG\r\n\x1a\n') return 'image/png';
  const gif = ascii(bytes, 0, 6);
  if (gif === 'GIF87a' || gif === 'GIF89a') return 'image/gif';
  if (ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 4) === 'WEBP') return 'image/webp';
  const tiff = ascii(bytes, 0, 4);
  if (tiff === 'II*\x00' || tiff === 'MM\x00*') return 'image/tiff';
  // ISO-BMFF: [size]['ftyp'][major brand][minor version][compatible brands...]
  if (ascii(bytes, 4, 4) === 'ftyp' && bytes.length >= 16) {
    const size = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0);
    const end = Math.min(bytes.length, Math.max(16, size));
    const brands = [ascii(bytes, 8, 4)];
    for (let i = 16; i + 4 <= end; i += 4) brands.push(ascii(bytes, i, 4));
    if (brands.includes('avif') || brands.includes('avis')) return 'image/avif';
    if (
      brands.some((b) =>
        ['heic', 'heix', 'heim', 'heis', 'hevc', 'hevx', 'mif1', 'msf1'].includes(b),
      )
    ) {
      return 'image/heic';
    }
  }
  return null;
}
