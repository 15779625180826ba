'use client';

import { useActionState } from 'react';
import type { Product } from '@/lib/types';
import { useHydrated } from '@/components/use-hydrated';
import { updateProduct, type ProductFormState } from '../actions';

export function ProductForm({ product, readOnly }: { product: Product; readOnly: boolean }) {
  const [state, action, pending] = useActionState<ProductFormState, FormData>(
    updateProduct.bind(null, product.id),
    {},
  );
  const ready = useHydrated();
  const invalid = (name: string) => (state.field === name ? true : undefined);
  const field = (
    name: 'title' | 'externalId' | 'category' | 'url' | 'price' | 'currency',
    label: string,
    props: Record<string, unknown> = {},
  ) => (
    <div className="field">
      <label htmlFor={`p-${name}`}>{label}</label>
      <input
        id={`p-${name}`}
        name={name}
        type="text"
        defaultValue={product[name] ?? ''}
        readOnly={readOnly}
        aria-invalid={invalid(name)}
        {...props}
      />
    </div>
  );
  return (
    <form
      action={action}
      className="stack"
      aria-label="Edit product"
      data-ready={ready || undefined}
    >
      {field('title', 'Title', { required: true })}
      {field('externalId', 'External id (SKU)', { required: true, className: 'mono' })}
      <div className="grid-2">
        {field('category', 'Category')}
        {field('url', 'Product URL', { type: 'url' })}
      </div>
      <div className="grid-2">
        {field('price', 'Price', { inputMode: 'decimal' })}
        {field('currency', 'Currency', { maxLength: 3, placeholder: 'EUR' })}
      </div>
      <div className="field">
        <label htmlFor="p-labels">Labels (JSON object)</label>
        <textarea
          id="p-labels"
          name="labels"
          className="mono"
          defaultValue={JSON.stringify(product.labels, null, 1)}
          readOnly={readOnly}
          aria-invalid={invalid('labels')}
        />
      </div>
      <div className="field">
        <label htmlFor="p-description">Description</label>
        <textarea
          id="p-description"
          name="description"
          defaultValue={product.description ?? ''}
          readOnly={readOnly}
        />
      </div>
      <div aria-live="polite">
        {state.error && (
          <div role="alert" className="alert error">
            {state.error}
          </div>
        )}
        {state.saved && !pending && <div className="alert ok">Saved.</div>}
      </div>
      {!readOnly && (
        <div>
          <button type="submit" className="primary" disabled={pending}>
            {pending ? 'Saving…' : 'Save changes'}
          </button>
        </div>
      )}
    </form>
  );
}
