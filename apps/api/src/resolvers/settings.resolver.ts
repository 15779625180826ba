import { Arg, Args, Authorized, Ctx, Mutation, Query, Resolver } from 'type-graphql';
import type { Context } from '../context.js';
import { SearchSettingsInput } from '../inputs/search.input.js';
import type { Services } from '../services/index.js';
import { ApiScope } from '../types/enums.js';
import { CatalogEvaluation } from '../types/evaluation.type.js';
import { SearchSettings } from '../types/settings.type.js';
import { EvaluateCatalogArgs } from './args.js';

@Resolver()
export class SettingsResolver {
  constructor(private readonly services: Services) {}

  @Authorized(ApiScope.SEARCH)
  @Query(() => SearchSettings)
  searchSettings(@Ctx() ctx: Context): Promise<SearchSettings> {
    return this.services.settings.get(ctx.principal.merchantId);
  }

  @Authorized(ApiScope.SETTINGS_WRITE)
  @Mutation(() => SearchSettings)
  updateSearchSettings(
    @Arg('input', () => SearchSettingsInput) input: SearchSettingsInput,
    @Ctx() ctx: Context,
  ): Promise<SearchSettings> {
    return this.services.settings.update(ctx.principal.merchantId, input);
  }

  @Authorized(ApiScope.SEARCH)
  @Query(() => CatalogEvaluation, {
    description:
      'Precision, recall, F1, mAP and recommended thresholds, measured on the catalog itself.',
    complexity: 200,
  })
  evaluateCatalog(
    @Args(() => EvaluateCatalogArgs) args: EvaluateCatalogArgs,
    @Ctx() ctx: Context,
  ): Promise<CatalogEvaluation> {
    return this.services.evaluation.evaluate(ctx.principal.merchantId, args);
  }
}
