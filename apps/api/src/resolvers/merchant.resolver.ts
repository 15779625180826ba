import type { MerchantService } from '@lookalike/core';
import { Arg, Authorized, Int, Mutation, Query, Resolver } from 'type-graphql';
import { ApiScope } from '../types/enums.js';
import { CreatedMerchant, MerchantConnection } from '../types/merchant.type.js';
import { toApiKey } from './mappers.js';

/** The platform operator's door: only a key with MERCHANTS_ADMIN gets here. */
@Resolver()
export class MerchantResolver {
  constructor(private readonly service: MerchantService) {}

  @Authorized(ApiScope.MERCHANTS_ADMIN)
  @Mutation(() => CreatedMerchant, {
    description:
      'A new merchant on this platform, on the default model, with its first key (every scope but MERCHANTS_ADMIN; the secret is answered once).',
  })
  async createMerchant(@Arg('name', () => String) name: string): Promise<CreatedMerchant> {
    const created = await this.service.create(name);
    return { merchant: created.merchant, apiKey: toApiKey(created.key), secret: created.token };
  }

  @Authorized(ApiScope.MERCHANTS_ADMIN)
  @Query(() => MerchantConnection, { description: 'Every merchant, oldest first.' })
  async merchants(
    @Arg('first', () => Int, { nullable: true }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
  ): Promise<MerchantConnection> {
    const page = await this.service.list({ first: first ?? 50, after });
    const last = page.items[page.items.length - 1];
    return {
      nodes: page.items,
      pageInfo: { hasNextPage: page.hasNextPage, endCursor: last?.id ?? null },
    };
  }
}
