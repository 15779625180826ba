-- Catalog evaluations as jobs (docs/architecture.md, "Jobs"): evaluateCatalog ran on the request
-- path, so one key could hold the API with a few large ones; now a worker runs them, one queued
-- or running per merchant, with progress, under their own scope.

-- Who may run them: a scope of its own, no longer any SEARCH key (a storefront's).
ALTER TYPE "ApiScope" ADD VALUE IF NOT EXISTS 'EVALUATE';

-- CreateEnum
CREATE TYPE "EvaluationJobStatus" AS ENUM ('QUEUED', 'RUNNING', 'COMPLETED', 'FAILED');

-- CreateTable
CREATE TABLE "evaluation_jobs" (
    "id" UUID NOT NULL,
    "merchant_id" UUID NOT NULL,
    "status" "EvaluationJobStatus" NOT NULL DEFAULT 'QUEUED',
    "args" JSONB NOT NULL,
    "done" INTEGER NOT NULL DEFAULT 0,
    "total" INTEGER NOT NULL DEFAULT 0,
    "result" JSONB,
    "error" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "started_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "evaluation_jobs_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "evaluation_jobs_merchant_id_created_at_idx" ON "evaluation_jobs"("merchant_id", "created_at");
ALTER TABLE "evaluation_jobs" ADD CONSTRAINT "evaluation_jobs_merchant_id_fkey" FOREIGN KEY ("merchant_id") REFERENCES "merchants"("id") ON DELETE CASCADE ON UPDATE CASCADE;
