'use server';

import { revalidatePath } from 'next/cache';
import { ActivateModelDocument, RetireModelDocument, StartReindexDocument } from '@lookalike/sdk';
import type { ActionResult, EmbeddingModel, ModelSwitch } from '@/lib/types';
import { actionFailure, type ApiClient } from '@/server/graphql';
import { sessionWithScope } from '@/server/session';

/** The API client of a session whose key may change models (the API checks it again). */
async function settingsWriter(what: string): Promise<ApiClient> {
  return (await sessionWithScope('SETTINGS_WRITE', `${what} needs`)).api;
}

/**
 * Which model serves shows on every page (the sidebar, the playground's answers, the studio's
 * settings): all of them are stale after a switch.
 */
function revalidateAll(): void {
  revalidatePath('/', 'layout');
}

export async function startReindex(model: string): Promise<ActionResult<EmbeddingModel>> {
  try {
    const api = await settingsWriter('a re-index');
    const { startReindex: started } = await api.request(StartReindexDocument, { model });
    revalidatePath('/models');
    return { ok: true, data: started };
  } catch (error) {
    return actionFailure(error);
  }
}

/**
 * Make `model` serve every search. Without `force` the API refuses (CONFLICT) while the model's
 * coverage is incomplete; the page asks before forcing.
 */
export async function activateModel(
  model: string,
  force: boolean,
): Promise<ActionResult<ModelSwitch>> {
  try {
    const api = await settingsWriter('switching models');
    const { activateModel: switched } = await api.request(ActivateModelDocument, {
      model,
      force,
    });
    revalidateAll();
    return { ok: true, data: switched };
  } catch (error) {
    return actionFailure(error);
  }
}

export async function retireModel(model: string): Promise<ActionResult<EmbeddingModel>> {
  try {
    const api = await settingsWriter('retiring a model');
    const { retireModel: retired } = await api.request(RetireModelDocument, { model });
    revalidatePath('/models');
    return { ok: true, data: retired };
  } catch (error) {
    return actionFailure(error);
  }
}
