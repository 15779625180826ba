'use server';

import { revalidatePath } from 'next/cache';
import {
  CreateWebhookEndpointDocument,
  DeleteWebhookEndpointDocument,
  SendTestWebhookDocument,
} from '@lookalike/sdk';
import { textField } from '@/lib/form-data';
import type { ActionResult, WebhookDelivery } from '@/lib/types';
import { actionFailure, describeError, type ApiClient } from '@/server/graphql';
import { sessionWithScope } from '@/server/session';

/** The API client of a session whose key may manage webhooks (the API checks it again). */
async function webhookAdmin(what: string): Promise<ApiClient> {
  return (await sessionWithScope('SETTINGS_WRITE', `${what} needs`)).api;
}

export interface CreateEndpointState {
  error?: string;
  /** The field the API refused (url, events). */
  field?: string;
  /** The signing secret, shown once. */
  secret?: string;
  url?: string;
}

export async function createEndpoint(
  _prev: CreateEndpointState,
  form: FormData,
): Promise<CreateEndpointState> {
  const url = textField(form, 'url');
  // The API checks the events against its list and names any it does not know.
  const events = form.getAll('events').map(String);
  if (!url) return { error: 'Give the URL that receives the events.', field: 'url' };
  if (events.length === 0) return { error: 'Pick at least one event.', field: 'events' };
  try {
    const api = await webhookAdmin('creating an endpoint');
    const { createWebhookEndpoint: created } = await api.request(CreateWebhookEndpointDocument, {
      url,
      events,
    });
    revalidatePath('/webhooks');
    return { secret: created.secret, url: created.endpoint.url };
  } catch (error) {
    const e = describeError(error);
    return { error: e.message, ...(e.field ? { field: e.field } : {}) };
  }
}

export async function deleteEndpoint(id: string): Promise<ActionResult<boolean>> {
  try {
    const api = await webhookAdmin('deleting an endpoint');
    const { deleteWebhookEndpoint: deleted } = await api.request(DeleteWebhookEndpointDocument, {
      id,
    });
    revalidatePath('/webhooks');
    return { ok: true, data: deleted };
  } catch (error) {
    return actionFailure(error);
  }
}

/** One webhook.test event for this endpoint alone: the answer is its (pending) delivery. */
export async function sendTest(endpointId: string): Promise<ActionResult<WebhookDelivery>> {
  try {
    const api = await webhookAdmin('sending a test event');
    const { sendTestWebhook: delivery } = await api.request(SendTestWebhookDocument, {
      endpointId,
    });
    revalidatePath('/webhooks');
    return { ok: true, data: delivery };
  } catch (error) {
    return actionFailure(error);
  }
}
