import { Field, ID, Int, ObjectType } from 'type-graphql';
import { WebhookDeliveryStatus } from './enums.js';
import { PageInfo } from './product.type.js';

@ObjectType()
export class WebhookEndpoint {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  url!: string;

  @Field(() => [String])
  events!: string[];

  @Field(() => Date)
  createdAt!: Date;
}

@ObjectType({ description: 'An event a webhook endpoint can subscribe to.' })
export class WebhookEvent {
  @Field(() => String, { description: 'As createWebhookEndpoint takes it, e.g. import.completed.' })
  name!: string;

  @Field(() => String, { description: 'What an endpoint subscribed to it is sent.' })
  description!: string;
}

@ObjectType()
export class CreatedWebhookEndpoint {
  @Field(() => WebhookEndpoint)
  endpoint!: WebhookEndpoint;

  @Field(() => String, {
    description:
      'The signing secret (whsec_…, Standard Webhooks). Shown once: verify webhook-signature with it.',
  })
  secret!: string;
}

@ObjectType()
export class WebhookDelivery {
  @Field(() => ID)
  id!: string;

  @Field(() => String, { description: 'The webhook-id header: the same on every attempt.' })
  eventId!: string;

  @Field(() => String)
  eventType!: string;

  @Field(() => WebhookDeliveryStatus)
  status!: WebhookDeliveryStatus;

  @Field(() => Int)
  attempts!: number;

  @Field(() => Date, { description: 'When the next attempt is due (PENDING).' })
  nextAttemptAt!: Date;

  @Field(() => Int, { nullable: true, description: 'The HTTP status of the last attempt.' })
  lastStatus!: number | null;

  @Field(() => String, { nullable: true })
  lastError!: string | null;

  @Field(() => Date)
  createdAt!: Date;

  @Field(() => Date, { nullable: true })
  deliveredAt!: Date | null;
}

@ObjectType()
export class WebhookDeliveryConnection {
  @Field(() => [WebhookDelivery])
  nodes!: WebhookDelivery[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;
}
