import type { DbClient } from '../client.js';
import type { ProductImage as ImageRow } from '../generated/prisma/client.js';
import { InvalidArgumentError, NotFoundError } from '../errors.js';
import { newId } from './ids.js';
import { assertInt, assertText, isUuid } from './validate.js';

export type ImageStatus = 'PENDING' | 'READY' | 'FAILED';

export interface ImageRecord {
  id: string;
  merchantId: string;
  productId: string;
  sha256: string;
  mime: string;
  width: number;
  height: number;
  byteSize: number;
  storageKey: string;
  status: ImageStatus;
  /** Where an import took it from (an image URL or archive path); null for uploads. */
  source: string | null;
  createdAt: Date;
}

export interface AddImageInput {
  productId: string;
  sha256: string;
  mime: string;
  width: number;
  height: number;
  byteSize: number;
  storageKey: string;
  status?: ImageStatus;
  source?: string | null;
}

export interface AddImageResult {
  image: ImageRecord;
  /** False when the product already had an image with these exact bytes. */
  created: boolean;
}

const SHA256 = /^[0-9a-f]{64}$/;
const MAX_SIDE = 100_000;

type InsertedRow = Omit<ImageRecord, 'status'> & { status: string };

function toRecord(row: ImageRow): ImageRecord {
  return { ...row, status: row.status };
}

function validate(input: AddImageInput): void {
  if (!SHA256.test(input.sha256)) {
    throw new InvalidArgumentError('sha256 must be 64 lowercase hex characters');
  }
  assertText(input.mime, 'mime', { min: 3, max: 100 });
  assertInt(input.width, 'width', 1, MAX_SIDE);
  assertInt(input.height, 'height', 1, MAX_SIDE);
  assertInt(input.byteSize, 'byteSize', 1, 2 ** 31 - 1);
  assertText(input.storageKey, 'storageKey', { min: 1, max: 512 });
  if (input.source != null) assertText(input.source, 'source', { min: 1, max: 4096 });
}

/** Product images of one merchant, deduplicated per product by content hash. */
export class ImageRepository {
  constructor(
    private readonly prisma: DbClient,
    private readonly engine: 'postgres' | 'pglite',
  ) {}

  /**
   * Attach an image to a product. The same bytes (sha256) on the same product are stored once:
   * a repeated add returns the existing image with `created: false`.
   */
  async add(merchantId: string, input: AddImageInput): Promise<AddImageResult> {
    validate(input);
    if (!isUuid(input.productId)) throw new NotFoundError(`product ${input.productId}`);
    // One statement in the usual case (a new image): the insert itself checks that the product
    // is this merchant's. ON CONFLICT rather than catching a unique violation: inside a
    // transaction a violation would abort it; a concurrent add of the same bytes either wins
    // (its row is returned) or waits for ours.
    const inserted = await this.prisma.$queryRaw<InsertedRow[]>`
      INSERT INTO product_images (id, merchant_id, product_id, sha256, mime, width, height,
                                  byte_size, storage_key, status, source)
      SELECT ${newId()}::uuid, p.merchant_id, p.id, ${input.sha256}, ${input.mime},
             ${input.width}, ${input.height}, ${input.byteSize}, ${input.storageKey},
             ${input.status ?? 'PENDING'}::"ImageStatus", ${input.source ?? null}
      FROM products p WHERE p.id = ${input.productId}::uuid AND p.merchant_id = ${merchantId}::uuid
      ON CONFLICT (product_id, sha256) DO NOTHING
      RETURNING id::text AS id, merchant_id::text AS "merchantId", product_id::text AS "productId",
                sha256, mime, width, height, byte_size AS "byteSize", storage_key AS "storageKey",
                status::text AS status, source, created_at AS "createdAt"`;
    const row = inserted[0];
    if (row) {
      return {
        image: {
          ...row,
          sha256: row.sha256.trim(),
          status: row.status as ImageStatus,
          createdAt: new Date(row.createdAt),
        },
        created: true,
      };
    }
    const existing = await this.prisma.productImage.findFirst({
      where: { productId: input.productId, sha256: input.sha256, merchantId },
    });
    if (!existing) throw new NotFoundError(`product ${input.productId}`);
    return { image: toRecord(existing), created: false };
  }

  async get(merchantId: string, id: string): Promise<ImageRecord | null> {
    if (!isUuid(id)) return null;
    const row = await this.prisma.productImage.findFirst({ where: { id, merchantId } });
    return row ? toRecord(row) : null;
  }

  /** A product's images, oldest first. Empty for another merchant's product. */
  async list(merchantId: string, productId: string): Promise<ImageRecord[]> {
    if (!isUuid(productId)) return [];
    const rows = await this.prisma.productImage.findMany({
      where: { productId, merchantId },
      orderBy: { id: 'asc' },
    });
    return rows.map(toRecord);
  }

  /** Images of several products at once (hydrating a page of results), grouped by product. */
  async listForProducts(
    merchantId: string,
    productIds: string[],
  ): Promise<Map<string, ImageRecord[]>> {
    const ids = productIds.filter(isUuid);
    const grouped = new Map<string, ImageRecord[]>(ids.map((id) => [id, []]));
    if (ids.length === 0) return grouped;
    const rows = await this.prisma.productImage.findMany({
      where: { productId: { in: ids }, merchantId },
      orderBy: { id: 'asc' },
    });
    for (const row of rows) grouped.get(row.productId)?.push(toRecord(row));
    return grouped;
  }

  async getMany(merchantId: string, ids: string[]): Promise<ImageRecord[]> {
    const valid = ids.filter(isUuid);
    if (valid.length === 0) return [];
    const rows = await this.prisma.productImage.findMany({
      where: { id: { in: valid }, merchantId },
    });
    return rows.map(toRecord);
  }

  /** The product's image taken from `source` by an import, if any. */
  async findBySource(
    merchantId: string,
    productId: string,
    source: string,
  ): Promise<ImageRecord | null> {
    if (!isUuid(productId)) return null;
    const row = await this.prisma.productImage.findFirst({
      where: { merchantId, productId, source },
    });
    return row ? toRecord(row) : null;
  }

  /** This merchant's images with exactly these bytes (any product). */
  async findBySha256(merchantId: string, sha256: string): Promise<ImageRecord[]> {
    if (!SHA256.test(sha256)) return [];
    const rows = await this.prisma.productImage.findMany({ where: { merchantId, sha256 } });
    return rows.map(toRecord);
  }

  async setStatus(merchantId: string, id: string, status: ImageStatus): Promise<boolean> {
    if (!isUuid(id)) return false;
    const { count } = await this.prisma.productImage.updateMany({
      where: { id, merchantId },
      data: { status },
    });
    return count > 0;
  }

  /** Removes the image and its embeddings; returns what was removed, or null. */
  async remove(merchantId: string, id: string): Promise<ImageRecord | null> {
    if (!isUuid(id)) return null;
    const row = await this.prisma.productImage.findFirst({ where: { id, merchantId } });
    if (!row) return null;
    const { count } = await this.prisma.productImage.deleteMany({ where: { id, merchantId } });
    return count > 0 ? toRecord(row) : null;
  }

  /**
   * Serialise work on one stored file until the surrounding transaction ends: an add that
   * writes the file and a garbage collection that deletes it (when no row references it) take
   * this lock first, so a collection can never delete a file a concurrent add is about to
   * reference. Only meaningful inside db.transaction.
   */
  async lockContent(sha256: string): Promise<void> {
    // PGlite runs one transaction at a time: nothing can interleave, and the lock would only
    // cost a round trip while every other query waits.
    if (this.engine === 'pglite') return;
    if (!SHA256.test(sha256))
      throw new InvalidArgumentError('sha256 must be 64 lowercase hex characters');
    await this.prisma.$queryRaw`SELECT pg_advisory_xact_lock(hashtext(${`image:${sha256}`}))::text`;
  }

  /**
   * Images of every merchant still PENDING (written, never embedded: a process died in
   * between) for longer than `graceSeconds` by the database's clock, oldest id first, after
   * the image `after`.
   */
  async listPending({
    graceSeconds,
    limit,
    after,
  }: {
    graceSeconds: number;
    limit: number;
    after?: string;
  }): Promise<ImageRecord[]> {
    assertInt(limit, 'limit', 1, 10_000);
    if (!Number.isFinite(graceSeconds) || graceSeconds < 0) {
      throw new InvalidArgumentError('graceSeconds must be a number >= 0');
    }
    if (after !== undefined && !isUuid(after)) throw new InvalidArgumentError('after is not an id');
    const rows = await this.prisma.$queryRaw<InsertedRow[]>`
      SELECT id::text AS id, merchant_id::text AS "merchantId", product_id::text AS "productId",
             sha256, mime, width, height, byte_size AS "byteSize", storage_key AS "storageKey",
             status::text AS status, source, created_at AS "createdAt"
      FROM product_images
      WHERE status = 'PENDING'
        AND created_at < now() - make_interval(secs => ${graceSeconds}::float8)
        AND (${after ?? null}::uuid IS NULL OR id > ${after ?? null}::uuid)
      ORDER BY id
      LIMIT ${limit}`;
    return rows.map((row) => ({
      ...row,
      sha256: row.sha256.trim(),
      status: row.status as ImageStatus,
      createdAt: new Date(row.createdAt),
    }));
  }

  /**
   * Settle a PENDING image as READY or FAILED; false when it is not PENDING (any more) or not
   * the merchant's: whoever settles it first wins.
   */
  async settlePending(
    merchantId: string,
    id: string,
    status: 'READY' | 'FAILED',
  ): Promise<boolean> {
    if (!isUuid(id)) return false;
    const { count } = await this.prisma.productImage.updateMany({
      where: { id, merchantId, status: 'PENDING' },
      data: { status },
    });
    return count > 0;
  }

  /** Which of these storage keys some image (of any merchant) still points at. */
  async referencedStorageKeys(storageKeys: readonly string[]): Promise<Set<string>> {
    if (storageKeys.length === 0) return new Set();
    const rows = await this.prisma.productImage.findMany({
      where: { storageKey: { in: [...storageKeys] } },
      select: { storageKey: true },
      distinct: ['storageKey'],
    });
    return new Set(rows.map((r) => r.storageKey));
  }

  /** How many images (of any merchant) still point at a stored blob: zero means it can go. */
  async countByStorageKey(storageKey: string): Promise<number> {
    return this.prisma.productImage.count({ where: { storageKey } });
  }

  /** The merchant's images (with `status`: only those). */
  async count(merchantId: string, status?: ImageStatus): Promise<number> {
    return this.prisma.productImage.count({
      where: { merchantId, ...(status ? { status } : {}) },
    });
  }
}
