import { Field, Float, InputType, Int } from 'type-graphql';
import { SimilarityMetric } from '../types/enums.js';

@InputType({
  description: 'A box in the uploaded image, in pixels of the image as displayed (EXIF-rotated).',
})
export class ImageRegion {
  @Field(() => Int)
  x!: number;

  @Field(() => Int)
  y!: number;

  @Field(() => Int)
  width!: number;

  @Field(() => Int)
  height!: number;
}

@InputType({ description: 'Only the fields given change.' })
export class SearchSettingsInput {
  @Field(() => SimilarityMetric, { nullable: true })
  metric?: SimilarityMetric;

  @Field(() => Float, {
    nullable: true,
    description: "On the metric's scale; null resets to the model default.",
  })
  searchThreshold?: number | null;

  @Field(() => Float, {
    nullable: true,
    description: "On the metric's scale; null resets to the model default.",
  })
  matchThreshold?: number | null;

  @Field(() => Int, { nullable: true })
  topK?: number;
}
