import type { Db } from '@lookalike/db';
import { parseModelKey } from './bundled.js';
import type { ModelRegistry } from './model-registry.js';
import type { ModelService } from './model.service.js';

/**
 * MODEL_UPGRADE: `auto` moves every merchant served by an older version of the configured
 * default model onto it (a re-index that switches when complete); `off` leaves them.
 */
export type ModelUpgradeMode = 'auto' | 'off';

export const MODEL_UPGRADE_MODES: readonly ModelUpgradeMode[] = ['auto', 'off'];

/** What start-up did about one merchant served by an older version of the default model. */
export interface ModelUpgrade {
  merchantId: string;
  /** The older version that serves it (and keeps serving until the switch). */
  from: string;
  /** The configured default model. */
  to: string;
  /**
   * `started`: a re-index to `to` began, to switch when complete. `resumed`: one started
   * earlier goes on (the switch still follows). `skipped`: the merchant has `to` already in
   * another state (re-indexing without the switch, READY, or RETIRED): left to the merchant.
   * `off`: MODEL_UPGRADE=off.
   */
  action: 'started' | 'resumed' | 'skipped' | 'off';
  /** The log line, in words. */
  message: string;
}

/** The manifest id and version of a model key (the registry's, else parsed from the key). */
function versionOf(registry: ModelRegistry, key: string): { id: string; version: number } | null {
  const info = registry.get(key)?.info;
  return info ? { id: info.id, version: info.version } : parseModelKey(key);
}

/**
 * Start-up: for every merchant whose ACTIVE model is an older version of the configured
 * default (same manifest id, lower version), start re-indexing to the default with the intent
 * to switch when it completes (unless the merchant has it already), or with `off` only say so.
 * Searches keep answering from the old version meanwhile; its vectors stay after the switch.
 * One process at a time (an advisory lock): replicas starting together start each re-index once.
 */
export async function upgradeToDefault(options: {
  db: Db;
  registry: ModelRegistry;
  models: ModelService;
  mode: ModelUpgradeMode;
  log: (message: string) => void;
}): Promise<ModelUpgrade[]> {
  // Most starts have nothing to upgrade: only then is the lock taken.
  const older = (await options.db.merchantModels.withStatus(['ACTIVE'])).some((r) =>
    isOlder(options.registry, r.modelId),
  );
  if (!older) return [];
  return options.db.withLock('lookalike:model-upgrade', () => upgradeAll(options));
}

/** Whether `key` is an older version of the registry's default model. */
function isOlder(registry: ModelRegistry, key: string): boolean {
  const target = registry.default.info;
  const v = versionOf(registry, key);
  return v !== null && v.id === target.id && v.version < target.version;
}

async function upgradeAll(options: {
  db: Db;
  registry: ModelRegistry;
  models: ModelService;
  mode: ModelUpgradeMode;
  log: (message: string) => void;
}): Promise<ModelUpgrade[]> {
  const { db, registry, models, mode, log } = options;
  const target = registry.default.info;
  const done: ModelUpgrade[] = [];
  for (const active of await db.merchantModels.withStatus(['ACTIVE'])) {
    const from = active.modelId;
    if (!isOlder(registry, from)) continue;
    const merchant = await db.merchants.get(active.merchantId);
    const who = merchant
      ? `merchant ${merchant.name} (${merchant.id})`
      : `merchant ${active.merchantId}`;
    const to = target.key;
    const row = await db.merchantModels.get(active.merchantId, to);
    let action: ModelUpgrade['action'];
    let message: string;
    if (mode === 'off') {
      action = 'off';
      message = `MODEL_UPGRADE=off: ${who} stays on ${from}, though MODELS' default is ${to} (startReindex(model: "${to}", activateWhenReady: true) upgrades it)`;
    } else if (row?.status === 'BACKFILLING' && row.activateWhenReady) {
      action = 'resumed';
      message = `upgrading ${who} from ${from} to ${to}: the re-index started earlier goes on; searches answer from ${from} until ${to} covers every image, then it switches`;
    } else if (row) {
      // The merchant has `to` already (never ACTIVE: `from` is): its state is the merchant's say.
      action = 'skipped';
      message =
        row.status === 'BACKFILLING'
          ? `${who} is re-indexing to ${to} already, without switching when ready: it stays on ${from} until activateModel`
          : row.status === 'RETIRED'
            ? `${who} retired ${to}: it stays on ${from} (startReindex upgrades it)`
            : `${who} has ${to} READY and is served by ${from}: not switching it (activateModel does)`;
    } else {
      const images = await db.images.count(active.merchantId, 'READY');
      try {
        await models.startReindex(active.merchantId, to, { activateWhenReady: true });
      } catch (error) {
        log(
          `upgrading ${who} from ${from} to ${to} failed to start: ${error instanceof Error ? error.message : String(error)}`,
        );
        continue;
      }
      action = 'started';
      message = `upgrading ${who} from ${from} to ${to}: re-indexing its ${images} images in the background; searches answer from ${from} until ${to} covers every image, then it switches (${from} keeps its vectors until retireModel)`;
    }
    log(message);
    done.push({ merchantId: active.merchantId, from, to, action, message });
  }
  return done;
}
