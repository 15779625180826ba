-- A re-index can carry the intent to switch to its model once it is complete
-- (docs/architecture.md, "Models have a lifecycle"): set by startReindex(activateWhenReady: true)
-- and by the automatic upgrade to a newer version of the default model (MODEL_UPGRADE=auto).
-- It is stored, not held in memory, so a restarted process still switches when the backfill it
-- resumes completes. Existing rows carry no such intent.

-- AlterTable
ALTER TABLE "merchant_models" ADD COLUMN "activate_when_ready" BOOLEAN NOT NULL DEFAULT false;
