import { GraphQLJSON } from 'graphql-scalars';
import { Field, Float, InputType } from 'type-graphql';

@InputType({ description: 'Which products to consider; all conditions must hold.' })
export class ProductFilter {
  @Field(() => String, { nullable: true })
  category?: string;

  @Field(() => [String], { nullable: true, description: 'Any of these categories.' })
  categories?: string[];

  @Field(() => GraphQLJSON, {
    nullable: true,
    description: 'A JSON object the labels must contain, e.g. {"color": "red"}.',
  })
  labels?: unknown;

  @Field(() => Float, { nullable: true })
  minPrice?: number;

  @Field(() => Float, { nullable: true })
  maxPrice?: number;

  @Field(() => String, { nullable: true, description: 'Case-insensitive text in the title.' })
  query?: string;
}

@InputType()
export class CreateProductInput {
  @Field(() => String)
  externalId!: string;

  @Field(() => String)
  title!: string;

  @Field(() => String, { nullable: true })
  description?: string | null;

  @Field(() => String, { nullable: true })
  category?: string | null;

  @Field(() => GraphQLJSON, { nullable: true, description: 'A JSON object.' })
  labels?: unknown;

  @Field(() => Float, { nullable: true })
  price?: number | null;

  @Field(() => String, { nullable: true, description: 'ISO 4217 code, e.g. EUR.' })
  currency?: string | null;

  @Field(() => String, { nullable: true })
  url?: string | null;
}

@InputType({ description: 'Only the fields given change; null clears an optional field.' })
export class UpdateProductInput {
  @Field(() => String, { nullable: true })
  externalId?: string | null;

  @Field(() => String, { nullable: true })
  title?: string | null;

  @Field(() => String, { nullable: true })
  description?: string | null;

  @Field(() => String, { nullable: true })
  category?: string | null;

  @Field(() => GraphQLJSON, { nullable: true })
  labels?: unknown;

  @Field(() => Float, { nullable: true })
  price?: number | null;

  @Field(() => String, { nullable: true })
  currency?: string | null;

  @Field(() => String, { nullable: true })
  url?: string | null;
}
