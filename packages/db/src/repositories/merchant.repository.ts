import type { DbClient } from '../client.js';
import { assertText, isUuid } from './validate.js';

export interface MerchantRecord {
  id: string;
  name: string;
  createdAt: Date;
  updatedAt: Date;
}

export class MerchantRepository {
  constructor(private readonly prisma: DbClient) {}

  async create(name: string): Promise<MerchantRecord> {
    assertText(name, 'merchant name', { min: 1, max: 200 });
    return this.prisma.merchant.create({ data: { name } });
  }

  async get(id: string): Promise<MerchantRecord | null> {
    if (!isUuid(id)) return null;
    return this.prisma.merchant.findUnique({ where: { id } });
  }

  /** The oldest merchant: the default one on a single-tenant install. */
  async first(): Promise<MerchantRecord | null> {
    return this.prisma.merchant.findFirst({ orderBy: { createdAt: 'asc' } });
  }

  /** Every merchant, oldest first. */
  async list(): Promise<MerchantRecord[]> {
    return this.prisma.merchant.findMany({ orderBy: { createdAt: 'asc' } });
  }

  /** Oldest first (ids are UUIDv7), after the merchant `after`. */
  async page(
    first: number,
    after?: string,
  ): Promise<{ items: MerchantRecord[]; hasNextPage: boolean }> {
    const rows = await this.prisma.merchant.findMany({
      where: after ? { id: { gt: after } } : {},
      orderBy: { id: 'asc' },
      take: first + 1,
    });
    return { items: rows.slice(0, first), hasNextPage: rows.length > first };
  }

  async count(): Promise<number> {
    return this.prisma.merchant.count();
  }
}
