import sharp from 'sharp';

/** A small PNG of one colour that differs per seed: distinct bytes, so a distinct stored file. */
export function solidPhoto(seed: number, size = 64): Promise<Buffer> {
  return sharp({
    create: {
      width: size,
      height: size,
      channels: 3,
      background: { r: (seed * 41) % 256, g: (seed * 89) % 256, b: (seed * 17) % 256 },
    },
  })
    .png()
    .toBuffer();
}

/** Resolves once `check` holds; polls a condition (no fixed sleeps) and gives up after `timeoutMs`. */
export async function until(
  check: () => boolean | Promise<boolean>,
  what: string,
  { timeoutMs = 15_000, intervalMs = 20 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
