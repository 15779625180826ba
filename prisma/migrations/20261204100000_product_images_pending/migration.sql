-- Image rows left PENDING (written, never embedded: a process died in between) are repaired by
-- the worker (packages/core/src/jobs/pending-images.ts), which looks for them on start and every
-- few minutes. A partial index keeps that look-up to the few PENDING rows instead of a scan of
-- every image; READY rows, almost all of them, are not in it.

-- CreateIndex
CREATE INDEX "product_images_pending_idx" ON "product_images" ("created_at") WHERE "status" = 'PENDING';
