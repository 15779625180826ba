import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Db } from '@lookalike/db';
import type { ImageStore } from '../images/image-store.js';
import type { ModelRegistry } from './model-registry.js';

export interface BackfillOptions {
  /**
   * How long a claimed re-index stays this process's without a renewal. Renewed before every
   * batch (a batch of 32 takes well under a second for the bundled model on 2 cores, a few
   * seconds for ResNet-50), so a crashed process's re-index is resumed by another within this.
   */
  leaseMs?: number;
  /** Images embedded and written per step. */
  batchSize?: number;
  /** How often pending re-indexes (another process's expired lease) are looked for; 0: never. */
  pollMs?: number;
  /** Identifies this process in leases (default: host, pid and a random suffix). */
  owner?: string;
  /**
   * A progress line (done/total, rate, ETA) is logged at every tenth of the catalog, and at
   * least this often (ms) while a re-index runs.
   */
  progressMs?: number;
  log?: (message: string) => void;
}

const DEFAULTS = { leaseMs: 30_000, batchSize: 32, pollMs: 10_000, progressMs: 30_000 };

/** How a finished re-index ended. */
export interface ReindexOutcome {
  /** It was to switch the merchant to its model once complete (activateWhenReady). */
  activateWhenReady: boolean;
  /** Present when it switched: the model that served before (null when none did). */
  switched?: { previous: string | null };
  /** The model's coverage when it finished (given when activateWhenReady). */
  coverage?: { total: number; embedded: number; failed: number };
}

/**
 * Marks a re-index finished when `owner` holds its lease (null otherwise), and does what its
 * row asks for then (ModelService.completeReindex: the switch of activateWhenReady).
 */
export type ReindexFinisher = (
  merchantId: string,
  modelId: string,
  owner: string,
) => Promise<ReindexOutcome | null>;

function seconds(s: number): string {
  if (s < 90) return `${Math.round(s)} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

function keyOf(merchantId: string, modelId: string): string {
  return `${merchantId}/${modelId}`;
}

/**
 * Re-indexing in the background, in process: embeds every READY image of a merchant that has no
 * vector of a model yet, batch by batch, until none is left, then marks the re-index finished
 * (the model becomes READY). Resumable: progress is what is stored, so a restarted process goes
 * on from there without duplicates (one vector per image and model, upserted). Several processes
 * on one database share the work safely: a lease on the re-index (renewed every batch) lets one
 * run it at a time, and an expired lease is taken over.
 */
export class Backfiller {
  readonly owner: string;
  private readonly options: Required<Omit<BackfillOptions, 'owner' | 'log'>>;
  private finisher: ReindexFinisher;
  private readonly log: (message: string) => void;
  private readonly running = new Map<string, Promise<void>>();
  private readonly stopping = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    private readonly db: Db,
    private readonly registry: ModelRegistry,
    private readonly store: ImageStore,
    options: BackfillOptions = {},
  ) {
    this.owner = options.owner ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.options = {
      leaseMs: options.leaseMs ?? DEFAULTS.leaseMs,
      batchSize: options.batchSize ?? DEFAULTS.batchSize,
      pollMs: options.pollMs ?? DEFAULTS.pollMs,
      progressMs: options.progressMs ?? DEFAULTS.progressMs,
    };
    this.log = options.log ?? (() => undefined);
    this.finisher = async (merchantId, modelId, owner) =>
      (await db.merchantModels.finishReindex(merchantId, modelId, owner))
        ? { activateWhenReady: false }
        : null;
  }

  /** How a re-index is finished (createCore: ModelService.completeReindex, which may switch). */
  setFinisher(finisher: ReindexFinisher): void {
    this.finisher = finisher;
  }

  /** Run the re-index of (merchant, model) here, unless it runs here already or cannot. */
  start(merchantId: string, modelId: string): void {
    const key = keyOf(merchantId, modelId);
    if (this.closed || this.running.has(key) || !this.registry.get(modelId)) return;
    this.stopping.delete(key);
    const run = this.run(merchantId, modelId)
      .catch((error: unknown) => {
        this.log(
          `re-index of ${modelId} for merchant ${merchantId} stopped: ${error instanceof Error ? error.message : String(error)}; it resumes on the next poll`,
        );
      })
      .finally(() => this.running.delete(key));
    this.running.set(key, run);
  }

  /** Start every unfinished re-index this process can run (after a restart, or a lost lease). */
  async resumePending(): Promise<void> {
    if (this.closed) return;
    for (const r of await this.db.merchantModels.pendingReindexes()) {
      this.start(r.merchantId, r.modelId);
    }
  }

  /** Resume pending re-indexes now and then every pollMs. */
  watch(): void {
    if (this.timer || this.options.pollMs <= 0) return;
    void this.resumePending().catch(() => undefined);
    this.timer = setInterval(() => {
      void this.resumePending().catch(() => undefined);
    }, this.options.pollMs);
    this.timer.unref();
  }

  isRunning(merchantId: string, modelId: string): boolean {
    return this.running.has(keyOf(merchantId, modelId));
  }

  /** Stop a re-index running here (a retired model); resolves when its loop has ended. */
  async stop(merchantId: string, modelId: string): Promise<void> {
    const key = keyOf(merchantId, modelId);
    this.stopping.add(key);
    await this.running.get(key);
  }

  /** Resolves when no re-index runs here (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.all(this.running.values());
  }

  /** Stop every loop after its current batch and give their leases back. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.idle();
  }

  private async run(merchantId: string, modelId: string): Promise<void> {
    const key = keyOf(merchantId, modelId);
    const embedder = this.registry.require(modelId);
    const { leaseMs, batchSize } = this.options;
    const leases = this.db.merchantModels;
    let cursor: string | null = null;
    let foundInPass = false;
    let embedded = 0;
    let failed = 0;
    const what = `re-index of ${modelId} for merchant ${merchantId}`;
    let progress: {
      total: number;
      before: number;
      started: number;
      loggedAt: number;
      tenth: number;
    } | null = null;
    for (;;) {
      if (this.closed || this.stopping.has(key)) {
        await leases.releaseReindex(merchantId, modelId, this.owner);
        return;
      }
      // Claim or renew before each batch: someone else's live lease means they run it.
      if (!(await leases.claimReindex(merchantId, modelId, this.owner, leaseMs))) return;
      if (!progress) {
        const c = (await leases.coverage(merchantId)).get(modelId);
        const total = c?.total ?? 0;
        const before = (c?.embedded ?? 0) + (c?.failed ?? 0);
        const now = Date.now();
        progress = { total, before, started: now, loggedAt: now, tenth: tenthOf(before, total) };
        this.log(
          `${what} ${before > 0 ? 'resumed' : 'started'}: ${total - before} of ${total} images to embed`,
        );
      } else {
        const done = progress.before + embedded + failed;
        const now = Date.now();
        const tenth = tenthOf(done, progress.total);
        if (tenth > progress.tenth || now - progress.loggedAt >= this.options.progressMs) {
          progress.tenth = tenth;
          progress.loggedAt = now;
          const rate = embedded / Math.max(0.001, (now - progress.started) / 1000);
          const left = Math.max(0, progress.total - done);
          const pct = progress.total === 0 ? 100 : Math.floor((done / progress.total) * 100);
          this.log(
            `${what}: ${done}/${progress.total} images (${pct}%), ${rate.toFixed(1)} images/s, ETA ${rate > 0 ? seconds(left / rate) : 'unknown'}${failed > 0 ? `, ${failed} failed` : ''}`,
          );
        }
      }
      const batch = await this.db.embeddings.missing(merchantId, modelId, cursor, batchSize);
      if (batch.length === 0) {
        // A pass that found work starts over once: images added behind the cursor by a process
        // that did not embed them with this model are caught; a pass that finds none is the end.
        if (foundInPass) {
          cursor = null;
          foundInPass = false;
          continue;
        }
        const outcome = await this.finisher(merchantId, modelId, this.owner);
        if (outcome) this.log(finishedLine(what, modelId, merchantId, embedded, outcome));
        return;
      }
      foundInPass = true;
      cursor = batch.at(-1)?.imageId ?? null;
      const files = await Promise.all(batch.map((b) => this.store.get(b.sha256)));
      const failures: { imageId: string; reason: string }[] = [];
      const work: { imageId: string; bytes: Uint8Array }[] = [];
      batch.forEach((b, i) => {
        const bytes = files[i];
        if (bytes) work.push({ imageId: b.imageId, bytes });
        else failures.push({ imageId: b.imageId, reason: 'the stored image file is missing' });
      });
      const results = await embedder.embedBatch(work.map((w) => w.bytes));
      const vectors: { imageId: string; vector: Float32Array }[] = [];
      results.forEach((r, i) => {
        const imageId = (work[i] as { imageId: string }).imageId;
        if (r.ok) vectors.push({ imageId, vector: r.vector });
        else failures.push({ imageId, reason: r.error.message });
      });
      embedded += await this.db.embeddings.upsertMany(merchantId, modelId, vectors);
      if (failures.length > 0) await leases.recordFailures(merchantId, modelId, failures);
      failed += failures.length;
    }
  }
}

/** Which tenth of the catalog `done` reaches (0-10). */
function tenthOf(done: number, total: number): number {
  return total === 0 ? 10 : Math.floor((done / total) * 10);
}

function finishedLine(
  what: string,
  modelId: string,
  merchantId: string,
  embedded: number,
  outcome: ReindexOutcome,
): string {
  const line = `${what} finished (${embedded} images)`;
  if (outcome.switched) {
    const was = outcome.switched.previous;
    return (
      `${line}; ${modelId} now serves merchant ${merchantId}${was ? ` instead of ${was}` : ''}: every image has a vector` +
      (was
        ? `. ${was} keeps its vectors (activateModel switches back; retireModel deletes them)`
        : '')
    );
  }
  if (!outcome.activateWhenReady) return line;
  const c = outcome.coverage ?? { total: 0, embedded: 0, failed: 0 };
  const pct = c.total === 0 ? 100 : (c.embedded / c.total) * 100;
  return (
    `${line}, but it covers ${c.embedded} of ${c.total} images (${pct.toFixed(1)}%; ${c.failed} failed): not switching to ${modelId}, which stays READY. ` +
    `The failures count in embeddingModels { coverage { failed } }; fix those images and startReindex again, or activateModel with force`
  );
}
