'use server';

import { revalidatePath } from 'next/cache';
import { CreateApiKeyDocument, RevokeApiKeyDocument } from '@lookalike/sdk';
import { ALL_SCOPES, type ActionResult, type KeyScope } from '@/lib/types';
import { actionFailure, describeError } from '@/server/graphql';
import { sessionOrThrow } from '@/server/session';
import { textField } from '@/lib/form-data';

export interface CreateKeyState {
  error?: string;
  /** The whole key, shown once. */
  secret?: string;
  name?: string;
}

export async function createKey(_prev: CreateKeyState, form: FormData): Promise<CreateKeyState> {
  const name = textField(form, 'name');
  const scopes = form
    .getAll('scopes')
    .map(String)
    .filter((s): s is KeyScope => (ALL_SCOPES as readonly string[]).includes(s));
  if (!name) return { error: 'Give the key a name, e.g. the shop or service that will use it.' };
  if (scopes.length === 0) return { error: 'Pick at least one scope.' };
  try {
    const { api } = await sessionOrThrow();
    const { createApiKey } = await api.request(CreateApiKeyDocument, { name, scopes });
    revalidatePath('/keys');
    return { secret: createApiKey.secret, name: createApiKey.apiKey.name };
  } catch (error) {
    return { error: describeError(error).message };
  }
}

export async function revokeKey(id: string): Promise<ActionResult<boolean>> {
  try {
    const { api } = await sessionOrThrow();
    const { revokeApiKey } = await api.request(RevokeApiKeyDocument, { id });
    revalidatePath('/keys');
    return { ok: true, data: revokeApiKey };
  } catch (error) {
    return actionFailure(error);
  }
}
