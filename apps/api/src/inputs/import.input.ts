import { GraphQLJSON } from 'graphql-scalars';
import { Field, Float, InputType } from 'type-graphql';

@InputType({ description: 'One product of importProducts: the keys of a catalog row.' })
export class ImportItemInput {
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

  @Field(() => String, { nullable: true })
  currency?: string | null;

  @Field(() => String, { nullable: true })
  url?: string | null;

  @Field(() => [String], {
    nullable: true,
    description: 'http(s) image URLs, fetched by the workers.',
  })
  imageUrls?: string[] | null;
}
