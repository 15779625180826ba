'use server';

import { redirect } from 'next/navigation';
import { env } from '@/env';
import { ViewerDocument } from '@lookalike/sdk';
import { ApiClient, ApiError, describeError } from '@/server/graphql';
import { endSession, startSession } from '@/server/session';
import { textField } from '@/lib/form-data';

export interface SignInState {
  error?: string;
}

/** Keys look like lk_<12>_<40> (apps/api env.ts). */
const KEY_PATTERN = /^lk_[A-Za-z0-9]{12}_[A-Za-z0-9]{40}$/;

export async function signIn(_prev: SignInState, form: FormData): Promise<SignInState> {
  const key = textField(form, 'apiKey');
  if (!KEY_PATTERN.test(key)) {
    return {
      error: 'That is not an API key: keys look like lk_ followed by 12 and 40 letters or digits.',
    };
  }
  try {
    const { viewer } = await new ApiClient(env().API_URL, key).request(ViewerDocument);
    if (!viewer.apiKey.scopes.includes('SEARCH')) {
      return {
        error:
          'This key lacks the SEARCH scope, which every page of the dashboard needs to read the catalog.',
      };
    }
  } catch (error) {
    if (error instanceof ApiError && error.code === 'UNAUTHENTICATED')
      return { error: 'The API does not accept this key: it is unknown or revoked.' };
    return { error: describeError(error).message };
  }
  await startSession(key);
  redirect('/catalog');
}

export async function signOut(): Promise<void> {
  await endSession();
  redirect('/signin');
}
