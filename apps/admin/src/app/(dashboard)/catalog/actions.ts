'use server';

import { revalidatePath } from 'next/cache';
import {
  DeleteProductDocument,
  RemoveProductImageDocument,
  UpdateProductDocument,
} from '@lookalike/sdk';
import type { ActionResult } from '@/lib/types';
import { actionFailure, describeError } from '@/server/graphql';
import { sessionOrThrow } from '@/server/session';
import { textField } from '@/lib/form-data';

export interface ProductFormState {
  error?: string;
  field?: string;
  saved?: boolean;
}

const text = textField;

export async function updateProduct(
  id: string,
  _prev: ProductFormState,
  form: FormData,
): Promise<ProductFormState> {
  let labels: unknown = {};
  const labelsText = text(form, 'labels');
  if (labelsText) {
    try {
      labels = JSON.parse(labelsText);
    } catch {
      return { error: 'Labels must be a JSON object, e.g. {"color": "red"}.', field: 'labels' };
    }
  }
  const priceText = text(form, 'price');
  const price = priceText === '' ? null : Number(priceText);
  if (price !== null && !Number.isFinite(price))
    return { error: 'Price must be a number.', field: 'price' };
  const input = {
    title: text(form, 'title'),
    externalId: text(form, 'externalId'),
    category: text(form, 'category') || null,
    description: text(form, 'description') || null,
    url: text(form, 'url') || null,
    currency: text(form, 'currency').toUpperCase() || null,
    price,
    labels,
  };
  if (!input.title) return { error: 'A product needs a title.', field: 'title' };
  if (!input.externalId) return { error: 'A product needs an externalId.', field: 'externalId' };
  try {
    const { api } = await sessionOrThrow();
    await api.request(UpdateProductDocument, { id, input });
  } catch (error) {
    const e = describeError(error);
    return { error: e.message, ...(e.field ? { field: e.field } : {}) };
  }
  revalidatePath(`/catalog/${id}`);
  return { saved: true };
}

export async function deleteProduct(id: string): Promise<ActionResult<boolean>> {
  try {
    const { api } = await sessionOrThrow();
    const { deleteProduct: deleted } = await api.request(DeleteProductDocument, { id });
    revalidatePath('/catalog');
    return { ok: true, data: deleted };
  } catch (error) {
    return actionFailure(error);
  }
}

export async function removeImage(
  productId: string,
  imageId: string,
): Promise<ActionResult<boolean>> {
  try {
    const { api } = await sessionOrThrow();
    const { removeProductImage } = await api.request(RemoveProductImageDocument, {
      id: imageId,
    });
    revalidatePath(`/catalog/${productId}`);
    return { ok: true, data: removeProductImage };
  } catch (error) {
    return actionFailure(error);
  }
}
