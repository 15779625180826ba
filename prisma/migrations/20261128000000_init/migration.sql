-- pgvector: the `vector` type, distance operators and HNSW indexes.
CREATE EXTENSION IF NOT EXISTS vector;

-- CreateEnum
CREATE TYPE "ApiScope" AS ENUM ('SEARCH', 'CATALOG_WRITE', 'SETTINGS_WRITE', 'KEYS_ADMIN');

-- CreateEnum
CREATE TYPE "ImageStatus" AS ENUM ('PENDING', 'READY', 'FAILED');

-- CreateEnum
CREATE TYPE "EmbeddingModelStatus" AS ENUM ('ACTIVE', 'BACKFILLING', 'RETIRED');

-- CreateEnum
CREATE TYPE "SimilarityMetric" AS ENUM ('COSINE', 'EUCLIDEAN');

-- CreateTable
CREATE TABLE "merchants" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "merchants_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "api_keys" (
    "id" UUID NOT NULL,
    "merchant_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "prefix" TEXT NOT NULL,
    "secret_hash" TEXT NOT NULL,
    "scopes" "ApiScope"[],
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_used_at" TIMESTAMPTZ(3),
    "revoked_at" TIMESTAMPTZ(3),

    CONSTRAINT "api_keys_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "products" (
    "id" UUID NOT NULL,
    "merchant_id" UUID NOT NULL,
    "external_id" TEXT NOT NULL,
    "title" TEXT NOT NULL,
    "description" TEXT,
    "category" TEXT,
    "labels" JSONB NOT NULL DEFAULT '{}',
    "price" DECIMAL(12,2),
    "currency" CHAR(3),
    "url" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "products_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "product_images" (
    "id" UUID NOT NULL,
    "merchant_id" UUID NOT NULL,
    "product_id" UUID NOT NULL,
    "sha256" CHAR(64) NOT NULL,
    "mime" TEXT NOT NULL,
    "width" INTEGER NOT NULL,
    "height" INTEGER NOT NULL,
    "byte_size" INTEGER NOT NULL,
    "storage_key" TEXT NOT NULL,
    "status" "ImageStatus" NOT NULL DEFAULT 'PENDING',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "product_images_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "embedding_models" (
    "id" TEXT NOT NULL,
    "dims" INTEGER NOT NULL,
    "status" "EmbeddingModelStatus" NOT NULL DEFAULT 'ACTIVE',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "embedding_models_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "image_embeddings" (
    "id" UUID NOT NULL,
    "image_id" UUID NOT NULL,
    "model_id" TEXT NOT NULL,
    "merchant_id" UUID NOT NULL,
    "product_id" UUID NOT NULL,
    "embedding" vector NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "image_embeddings_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "search_settings" (
    "merchant_id" UUID NOT NULL,
    "metric" "SimilarityMetric" NOT NULL DEFAULT 'COSINE',
    "search_threshold" DOUBLE PRECISION,
    "match_threshold" DOUBLE PRECISION,
    "top_k" INTEGER NOT NULL DEFAULT 10,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "search_settings_pkey" PRIMARY KEY ("merchant_id")
);

-- CreateIndex
CREATE UNIQUE INDEX "api_keys_prefix_key" ON "api_keys"("prefix");

-- CreateIndex
CREATE INDEX "api_keys_merchant_id_idx" ON "api_keys"("merchant_id");

-- CreateIndex
CREATE INDEX "products_merchant_id_category_idx" ON "products"("merchant_id", "category");

-- CreateIndex
CREATE UNIQUE INDEX "products_merchant_id_external_id_key" ON "products"("merchant_id", "external_id");

-- CreateIndex
CREATE INDEX "product_images_merchant_id_sha256_idx" ON "product_images"("merchant_id", "sha256");

-- CreateIndex
CREATE UNIQUE INDEX "product_images_product_id_sha256_key" ON "product_images"("product_id", "sha256");

-- CreateIndex
CREATE INDEX "image_embeddings_merchant_id_model_id_idx" ON "image_embeddings"("merchant_id", "model_id");

-- CreateIndex
CREATE UNIQUE INDEX "image_embeddings_image_id_model_id_key" ON "image_embeddings"("image_id", "model_id");

-- AddForeignKey
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_merchant_id_fkey" FOREIGN KEY ("merchant_id") REFERENCES "merchants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "products" ADD CONSTRAINT "products_merchant_id_fkey" FOREIGN KEY ("merchant_id") REFERENCES "merchants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "product_images" ADD CONSTRAINT "product_images_merchant_id_fkey" FOREIGN KEY ("merchant_id") REFERENCES "merchants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "product_images" ADD CONSTRAINT "product_images_product_id_fkey" FOREIGN KEY ("product_id") REFERENCES "products"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "image_embeddings" ADD CONSTRAINT "image_embeddings_image_id_fkey" FOREIGN KEY ("image_id") REFERENCES "product_images"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "image_embeddings" ADD CONSTRAINT "image_embeddings_model_id_fkey" FOREIGN KEY ("model_id") REFERENCES "embedding_models"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "image_embeddings" ADD CONSTRAINT "image_embeddings_merchant_id_fkey" FOREIGN KEY ("merchant_id") REFERENCES "merchants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "search_settings" ADD CONSTRAINT "search_settings_merchant_id_fkey" FOREIGN KEY ("merchant_id") REFERENCES "merchants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- The bundled model (models/fashion-resnet, 128-d). Each model gets its own partial expression
-- indexes, so a new model can be backfilled while the old one keeps serving
-- (docs/architecture.md, "Models have a lifecycle").
INSERT INTO "embedding_models" ("id", "dims", "status") VALUES ('fashion-resnet-v1', 128, 'ACTIVE');

-- HNSW, one per operator class: cosine (<=>) and Euclidean (<->). m and ef_construction are
-- pgvector's defaults (16, 64); recall is tuned at query time with hnsw.ef_search.
CREATE INDEX "image_embeddings_fashion_resnet_v1_cosine_idx" ON "image_embeddings"
    USING hnsw (("embedding"::vector(128)) vector_cosine_ops)
    WHERE "model_id" = 'fashion-resnet-v1';

CREATE INDEX "image_embeddings_fashion_resnet_v1_l2_idx" ON "image_embeddings"
    USING hnsw (("embedding"::vector(128)) vector_l2_ops)
    WHERE "model_id" = 'fashion-resnet-v1';
