import { Field, ObjectType } from 'type-graphql';
import { ApiKey, Merchant } from './api-key.type.js';
import { PageInfo } from './product.type.js';

@ObjectType()
export class MerchantConnection {
  @Field(() => [Merchant])
  nodes!: Merchant[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;
}

@ObjectType()
export class CreatedMerchant {
  @Field(() => Merchant)
  merchant!: Merchant;

  @Field(() => ApiKey, { description: 'Its first key, with every merchant scope.' })
  apiKey!: ApiKey;

  @Field(() => String, { description: 'The whole key. Shown once: only its hash is stored.' })
  secret!: string;
}
