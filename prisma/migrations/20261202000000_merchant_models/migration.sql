-- The serving model becomes a database fact, per merchant (docs/architecture.md, "Models have a
-- lifecycle"): each merchant has exactly one ACTIVE model; others are being re-indexed
-- (BACKFILLING), kept in sync for a switch back (READY), or RETIRED (their vectors deleted).
-- Search settings move from one row per merchant to one per (merchant, model), since each
-- model's thresholds live on its own score scale. Existing data keeps working: every merchant
-- serves the model its vectors are in, with the settings it had.

-- CreateEnum
CREATE TYPE "MerchantModelStatus" AS ENUM ('ACTIVE', 'BACKFILLING', 'READY', 'RETIRED');

-- CreateTable
CREATE TABLE "merchant_models" (
    "merchant_id" UUID NOT NULL,
    "model_id" TEXT NOT NULL,
    "status" "MerchantModelStatus" NOT NULL,
    "activated_at" TIMESTAMPTZ(3),
    "reindex_started_at" TIMESTAMPTZ(3),
    "reindex_finished_at" TIMESTAMPTZ(3),
    "reindex_lease_owner" TEXT,
    "reindex_lease_until" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "merchant_models_pkey" PRIMARY KEY ("merchant_id","model_id")
);

-- CreateTable
CREATE TABLE "image_embedding_failures" (
    "image_id" UUID NOT NULL,
    "model_id" TEXT NOT NULL,
    "merchant_id" UUID NOT NULL,
    "reason" TEXT NOT NULL,
    "failed_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "image_embedding_failures_pkey" PRIMARY KEY ("image_id","model_id")
);

-- One ACTIVE model per merchant, enforced by the database: a switch demotes the old one first.
CREATE UNIQUE INDEX "merchant_models_one_active_idx" ON "merchant_models"("merchant_id")
    WHERE "status" = 'ACTIVE';

-- CreateIndex
CREATE INDEX "merchant_models_model_id_idx" ON "merchant_models"("model_id");

-- CreateIndex
CREATE INDEX "image_embedding_failures_merchant_id_model_id_idx" ON "image_embedding_failures"("merchant_id", "model_id");

-- AddForeignKey
ALTER TABLE "merchant_models" ADD CONSTRAINT "merchant_models_merchant_id_fkey" FOREIGN KEY ("merchant_id") REFERENCES "merchants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "merchant_models" ADD CONSTRAINT "merchant_models_model_id_fkey" FOREIGN KEY ("model_id") REFERENCES "embedding_models"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "image_embedding_failures" ADD CONSTRAINT "image_embedding_failures_image_id_fkey" FOREIGN KEY ("image_id") REFERENCES "product_images"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "image_embedding_failures" ADD CONSTRAINT "image_embedding_failures_model_id_fkey" FOREIGN KEY ("model_id") REFERENCES "embedding_models"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "image_embedding_failures" ADD CONSTRAINT "image_embedding_failures_merchant_id_fkey" FOREIGN KEY ("merchant_id") REFERENCES "merchants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Existing merchants serve the model their vectors are in (most vectors; without any, the
-- model the previous version registered ACTIVE, oldest first). Other models holding some of a
-- merchant's vectors are kept as READY: their coverage says how complete they are.
INSERT INTO "merchant_models" ("merchant_id", "model_id", "status", "activated_at")
SELECT m."id",
       (SELECT em."id"
          FROM "embedding_models" em
          LEFT JOIN "image_embeddings" e ON e."model_id" = em."id" AND e."merchant_id" = m."id"
         GROUP BY em."id", em."status", em."created_at"
         ORDER BY count(e."id") DESC, (em."status" = 'ACTIVE') DESC, em."created_at", em."id"
         LIMIT 1),
       'ACTIVE', CURRENT_TIMESTAMP
  FROM "merchants" m;

INSERT INTO "merchant_models" ("merchant_id", "model_id", "status")
SELECT DISTINCT e."merchant_id", e."model_id", 'READY'::"MerchantModelStatus"
  FROM "image_embeddings" e
ON CONFLICT ("merchant_id", "model_id") DO NOTHING;

-- Search settings per (merchant, model): a merchant's saved settings belong to its active model.
ALTER TABLE "search_settings" ADD COLUMN "model_id" TEXT;

UPDATE "search_settings" s
   SET "model_id" = mm."model_id"
  FROM "merchant_models" mm
 WHERE mm."merchant_id" = s."merchant_id" AND mm."status" = 'ACTIVE';

ALTER TABLE "search_settings" ALTER COLUMN "model_id" SET NOT NULL;

ALTER TABLE "search_settings" DROP CONSTRAINT "search_settings_pkey",
ADD CONSTRAINT "search_settings_pkey" PRIMARY KEY ("merchant_id", "model_id");

-- AddForeignKey
ALTER TABLE "search_settings" ADD CONSTRAINT "search_settings_model_id_fkey" FOREIGN KEY ("model_id") REFERENCES "embedding_models"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- A model's status is per merchant now; the global column and its type go.
ALTER TABLE "embedding_models" DROP COLUMN "status";

-- DropEnum
DROP TYPE "EmbeddingModelStatus";
