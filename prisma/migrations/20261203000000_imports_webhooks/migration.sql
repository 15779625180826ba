-- Bulk imports as durable jobs, webhooks with a transactional outbox, and the platform operator
-- scope (docs/architecture.md, "Jobs" and "Webhooks"). The queue that hands the work to worker
-- processes (pg-boss) keeps its own tables in its own schema; these tables are the product's
-- record of what was asked and what happened, and what makes every effect exactly-once.

-- The platform operator: creates and lists merchants. Held by the bootstrap key of a new
-- install; never granted by a merchant's own key.
ALTER TYPE "ApiScope" ADD VALUE IF NOT EXISTS 'MERCHANTS_ADMIN';

-- CreateEnum
CREATE TYPE "IngestJobStatus" AS ENUM ('QUEUED', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED');

-- CreateEnum
CREATE TYPE "IngestRowStatus" AS ENUM ('PENDING', 'DONE', 'FAILED', 'CANCELLED');

-- CreateEnum
CREATE TYPE "WebhookDeliveryStatus" AS ENUM ('PENDING', 'DELIVERED', 'FAILED');

-- Where an image came from (an import's image URL or archive path): a re-import of the same
-- row finds it and neither fetches nor embeds it again.
ALTER TABLE "product_images" ADD COLUMN "source" TEXT;
CREATE INDEX "product_images_product_id_source_idx" ON "product_images"("product_id", "source");

-- CreateTable
CREATE TABLE "ingest_jobs" (
    "id" UUID NOT NULL,
    "merchant_id" UUID NOT NULL,
    "format" TEXT NOT NULL,
    "status" "IngestJobStatus" NOT NULL DEFAULT 'QUEUED',
    "total" INTEGER NOT NULL DEFAULT 0,
    "done" INTEGER NOT NULL DEFAULT 0,
    "failed" INTEGER NOT NULL DEFAULT 0,
    "images" INTEGER NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "started_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "ingest_jobs_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "ingest_jobs_merchant_id_created_at_idx" ON "ingest_jobs"("merchant_id", "created_at");
ALTER TABLE "ingest_jobs" ADD CONSTRAINT "ingest_jobs_merchant_id_fkey" FOREIGN KEY ("merchant_id") REFERENCES "merchants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- CreateTable: one row of an import; `item` is the validated product and its image sources.
CREATE TABLE "ingest_rows" (
    "job_id" UUID NOT NULL,
    "row" INTEGER NOT NULL,
    "merchant_id" UUID NOT NULL,
    "external_id" TEXT,
    "item" JSONB,
    "status" "IngestRowStatus" NOT NULL DEFAULT 'PENDING',
    "code" TEXT,
    "reason" TEXT,
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "ingest_rows_pkey" PRIMARY KEY ("job_id", "row")
);
CREATE INDEX "ingest_rows_job_id_status_idx" ON "ingest_rows"("job_id", "status");
ALTER TABLE "ingest_rows" ADD CONSTRAINT "ingest_rows_job_id_fkey" FOREIGN KEY ("job_id") REFERENCES "ingest_jobs"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "ingest_rows" ADD CONSTRAINT "ingest_rows_merchant_id_fkey" FOREIGN KEY ("merchant_id") REFERENCES "merchants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- CreateTable. The secret signs deliveries (HMAC), so it is kept, not hashed; it is shown once.
CREATE TABLE "webhook_endpoints" (
    "id" UUID NOT NULL,
    "merchant_id" UUID NOT NULL,
    "url" TEXT NOT NULL,
    "events" TEXT[],
    "secret" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "webhook_endpoints_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "webhook_endpoints_merchant_id_idx" ON "webhook_endpoints"("merchant_id");
ALTER TABLE "webhook_endpoints" ADD CONSTRAINT "webhook_endpoints_merchant_id_fkey" FOREIGN KEY ("merchant_id") REFERENCES "merchants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- CreateTable: the outbox. An event is written in the transaction of what it reports, with one
-- delivery per subscribed endpoint; worker processes claim due deliveries.
CREATE TABLE "webhook_events" (
    "id" UUID NOT NULL,
    "merchant_id" UUID NOT NULL,
    "type" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "webhook_events_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "webhook_events_merchant_id_idx" ON "webhook_events"("merchant_id");
ALTER TABLE "webhook_events" ADD CONSTRAINT "webhook_events_merchant_id_fkey" FOREIGN KEY ("merchant_id") REFERENCES "merchants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- CreateTable
CREATE TABLE "webhook_deliveries" (
    "id" UUID NOT NULL,
    "event_id" UUID NOT NULL,
    "endpoint_id" UUID NOT NULL,
    "merchant_id" UUID NOT NULL,
    "status" "WebhookDeliveryStatus" NOT NULL DEFAULT 'PENDING',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "next_attempt_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "locked_until" TIMESTAMPTZ(3),
    "last_status" INTEGER,
    "last_error" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "delivered_at" TIMESTAMPTZ(3),

    CONSTRAINT "webhook_deliveries_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "webhook_deliveries_event_id_endpoint_id_key" ON "webhook_deliveries"("event_id", "endpoint_id");
CREATE INDEX "webhook_deliveries_status_next_attempt_at_idx" ON "webhook_deliveries"("status", "next_attempt_at");
CREATE INDEX "webhook_deliveries_endpoint_id_created_at_idx" ON "webhook_deliveries"("endpoint_id", "created_at");
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_event_id_fkey" FOREIGN KEY ("event_id") REFERENCES "webhook_events"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_endpoint_id_fkey" FOREIGN KEY ("endpoint_id") REFERENCES "webhook_endpoints"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_merchant_id_fkey" FOREIGN KEY ("merchant_id") REFERENCES "merchants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- CreateTable: rate-limit counters shared by every API replica on native Postgres (the layout
-- rate-limiter-flexible's Postgres store uses; created here so migrations own every table).
CREATE TABLE "rate_limits" (
    "key" VARCHAR(255) NOT NULL,
    "points" INTEGER NOT NULL DEFAULT 0,
    "expire" BIGINT,

    CONSTRAINT "rate_limits_pkey" PRIMARY KEY ("key")
);
