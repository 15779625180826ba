import { Field, ID, Int, ObjectType } from 'type-graphql';
import { IngestJobStatus } from './enums.js';
import { PageInfo } from './product.type.js';

@ObjectType({ description: 'A row of an import that could not be imported, and why.' })
export class IngestRowError {
  @Field(() => Int, {
    description:
      'CSV: the data record (header not counted), JSONL: the line, JSON: the item; 1-based.',
  })
  row!: number;

  @Field(() => String, { nullable: true })
  externalId!: string | null;

  @Field(() => String, {
    description:
      'INVALID_ROW, DUPLICATE_EXTERNAL_ID, TOO_MANY_IMAGES, FILE_NOT_IN_ARCHIVE (found on upload); URL_INVALID, URL_REFUSED, FETCH_FAILED, IMAGE_TOO_LARGE, NOT_AN_IMAGE, CORRUPT_IMAGE (found by the worker); INTERNAL.',
  })
  code!: string;

  @Field(() => String)
  reason!: string;
}

@ObjectType()
export class IngestRowErrorConnection {
  @Field(() => [IngestRowError])
  nodes!: IngestRowError[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;
}

@ObjectType({ description: 'A bulk import: its rows are worked by the job workers.' })
export class IngestJob {
  @Field(() => ID)
  id!: string;

  @Field(() => String, { description: 'CSV, JSONL, ZIP, or JSON (importProducts).' })
  format!: string;

  @Field(() => IngestJobStatus)
  status!: IngestJobStatus;

  @Field(() => Int, { description: 'Rows in the import.' })
  total!: number;

  @Field(() => Int, { description: 'Rows imported (the product and all its images).' })
  done!: number;

  @Field(() => Int, { description: 'Rows that failed (listed by errors).' })
  failed!: number;

  @Field(() => Int, { description: 'Images stored by the rows so far.' })
  images!: number;

  @Field(() => Date)
  createdAt!: Date;

  @Field(() => Date, { nullable: true })
  startedAt!: Date | null;

  @Field(() => Date, { nullable: true })
  finishedAt!: Date | null;
}

@ObjectType()
export class IngestJobConnection {
  @Field(() => [IngestJob])
  nodes!: IngestJob[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;
}
