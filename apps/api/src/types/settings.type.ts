import { Field, Float, Int, ObjectType } from 'type-graphql';
import { SimilarityMetric } from './enums.js';

@ObjectType({
  description: "The merchant's search defaults. Thresholds are on the metric's scale.",
})
export class SearchSettings {
  @Field(() => String, { description: 'The embedding model these settings are for.' })
  model!: string;

  @Field(() => SimilarityMetric)
  metric!: SimilarityMetric;

  @Field(() => Float, { description: 'Results must pass it to be returned (SIMILAR).' })
  searchThreshold!: number;

  @Field(() => Float, { description: 'Passing it means the same product (MATCH).' })
  matchThreshold!: number;

  @Field(() => Int, { description: 'Default number of results of similarProducts.' })
  topK!: number;

  @Field(() => Boolean, {
    description:
      "True while a threshold is the model's recommended default rather than a saved value.",
  })
  usingModelDefaults!: boolean;

  @Field(() => Date, { nullable: true })
  updatedAt!: Date | null;
}
