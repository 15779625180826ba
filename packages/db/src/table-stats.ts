import type { PrismaClient } from './generated/prisma/client.js';

/** The tables whose statistics decide the plan of a nearest-neighbour query. */
const TABLES = 'image_embeddings, product_images, products';

/**
 * Keeps the planner's statistics of the search tables fresh. Which plan a nearest query gets —
 * the HNSW index or an exact scan of the merchant's rows — depends on how many rows the planner
 * thinks the merchant has; with statistics from before a bulk load it thinks "one" and scans
 * exactly (measured: 5-9 ms instead of under 1 ms for 4k-10k images on PGlite). PGlite has no
 * autovacuum, so nothing else would ever refresh them; native Postgres's autovacuum does, but
 * only up to a minute later. This runs ANALYZE at the rule autovacuum uses (50 rows + 10% of
 * the table changed), in the background, one at a time.
 */
export class TableStats {
  private changed = 0;
  private rows = 0;
  private running: Promise<void> | null = null;
  private closed = false;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly log: (message: string) => void = () => undefined,
  ) {}

  /** Analyze now (at open: a database written by an earlier version may never have been). */
  async refresh(): Promise<void> {
    if (this.closed) return;
    this.changed = 0;
    await this.prisma.$executeRawUnsafe(`ANALYZE ${TABLES}`);
    const [row] = await this.prisma.$queryRaw<{ n: number }[]>`
      SELECT coalesce(reltuples, 0)::float8 AS n FROM pg_class WHERE relname = 'image_embeddings'`;
    this.rows = Math.max(0, row?.n ?? 0);
  }

  /** `n` rows of a search table were written or deleted. */
  note(n: number): void {
    this.changed += n;
    if (this.closed || this.running || this.changed < 50 + 0.1 * this.rows) return;
    this.running = this.refresh()
      .catch((error: unknown) => {
        this.log(`ANALYZE failed: ${error instanceof Error ? error.message : String(error)}`);
      })
      .finally(() => {
        this.running = null;
      });
  }

  /** Wait for a running ANALYZE, and start no more. */
  async close(): Promise<void> {
    this.closed = true;
    await this.running;
  }
}
