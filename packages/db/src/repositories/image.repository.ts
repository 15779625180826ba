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
}

export interface AddImageResult {
  image: ImageRecord;
  /** False when the product already had an image with these exact bytes. */
  created: boolean;
}

const SHA256 = /^[0-9a-f]{64}$/;
const MAX_SIDE = 100_000;

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
}

/** Product images of one merchant, deduplicated per product by content hash. */
export class ImageRepository {
  constructor(private readonly prisma: DbClient) {}

  /**
   * Attach an image to a product. The same bytes (sha256) on the same product are stored once:
   * a repeated add returns the existing image with `created: false`.
   */
  async add(merchantId: string, input: AddImageInput): Promise<AddImageResult> {
    validate(input);
    const product = isUuid(input.productId)
      ? await this.prisma.product.findFirst({
          where: { id: input.productId, merchantId },
          select: { id: true },
        })
      : null;
    if (!product) throw new NotFoundError(`product ${input.productId}`);
    // ON CONFLICT rather than catching a unique violation: inside a transaction a violation
    // would abort it. A concurrent add of the same bytes either wins (we return its row) or
    // waits for ours.
    const inserted = await this.prisma.$queryRaw<{ id: string }[]>`
      INSERT INTO product_images (id, merchant_id, product_id, sha256, mime, width, height,
                                  byte_size, storage_key, status)
      VALUES (${newId()}::uuid, ${merchantId}::uuid, ${input.productId}::uuid, ${input.sha256},
              ${input.mime}, ${input.width}, ${input.height}, ${input.byteSize},
              ${input.storageKey}, ${input.status ?? 'PENDING'}::"ImageStatus")
      ON CONFLICT (product_id, sha256) DO NOTHING
      RETURNING id::text AS id`;
    const key = { productId_sha256: { productId: input.productId, sha256: input.sha256 } };
    const row = await this.prisma.productImage.findUnique({ where: key });
    if (!row) throw new NotFoundError(`product ${input.productId}`);
    return { image: toRecord(row), created: inserted.length > 0 };
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
    if (!SHA256.test(sha256))
      throw new InvalidArgumentError('sha256 must be 64 lowercase hex characters');
    await this.prisma.$queryRaw`SELECT pg_advisory_xact_lock(hashtext(${`image:${sha256}`}))::text`;
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
