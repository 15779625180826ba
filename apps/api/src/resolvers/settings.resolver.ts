import type { EvaluationService, SettingsService } from '@lookalike/core';
import { Arg, Args, Authorized, Ctx, Mutation, Query, Resolver } from 'type-graphql';
import type { Context } from '../context.js';
import { SearchSettingsInput } from '../inputs/search.input.js';
import { ApiScope, metricOf, relevanceOf } from '../types/enums.js';
import { CatalogEvaluation } from '../types/evaluation.type.js';
import { SearchSettings } from '../types/settings.type.js';
import { EvaluateCatalogArgs } from './args.js';
import { toEvaluation, toSearchSettings } from './mappers.js';

@Resolver()
export class SettingsResolver {
  constructor(
    private readonly settings: SettingsService,
    private readonly evaluation: EvaluationService,
  ) {}

  @Authorized(ApiScope.SEARCH)
  @Query(() => SearchSettings, {
    description: "The merchant's settings for a model (default: the serving one).",
  })
  async searchSettings(
    @Arg('model', () => String, { nullable: true }) model: string | null,
    @Ctx() ctx: Context,
  ): Promise<SearchSettings> {
    return toSearchSettings(await this.settings.get(ctx.principal.merchantId, model ?? undefined));
  }

  @Authorized(ApiScope.SETTINGS_WRITE)
  @Mutation(() => SearchSettings, {
    description:
      'Change the settings of a model (default: the serving one); each model keeps its own.',
  })
  async updateSearchSettings(
    @Arg('input', () => SearchSettingsInput) input: SearchSettingsInput,
    @Arg('model', () => String, { nullable: true }) model: string | null,
    @Ctx() ctx: Context,
  ): Promise<SearchSettings> {
    return toSearchSettings(
      await this.settings.update(
        ctx.principal.merchantId,
        {
          ...(input.metric ? { metric: metricOf[input.metric] } : {}),
          ...(input.searchThreshold !== undefined
            ? { searchThreshold: input.searchThreshold }
            : {}),
          ...(input.matchThreshold !== undefined ? { matchThreshold: input.matchThreshold } : {}),
          ...(input.topK !== undefined ? { topK: input.topK } : {}),
        },
        model ?? undefined,
      ),
    );
  }

  @Authorized(ApiScope.SEARCH)
  @Query(() => CatalogEvaluation, {
    description:
      'Precision, recall, F1, mAP and recommended thresholds, measured on the catalog itself.',
    complexity: 200,
  })
  async evaluateCatalog(
    @Args(() => EvaluateCatalogArgs) args: EvaluateCatalogArgs,
    @Ctx() ctx: Context,
  ): Promise<CatalogEvaluation> {
    return toEvaluation(
      await this.evaluation.evaluate(ctx.principal.merchantId, {
        model: args.model ?? null,
        sampleSize: args.sampleSize ?? null,
        depth: args.depth ?? null,
        targetPrecision: args.targetPrecision ?? null,
        seed: args.seed ?? null,
        metric: args.metric ? metricOf[args.metric] : null,
        relevance: args.relevance ? relevanceOf[args.relevance] : null,
      }),
    );
  }
}
