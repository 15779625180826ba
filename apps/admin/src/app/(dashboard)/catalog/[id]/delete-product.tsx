'use client';

import { useRouter } from 'next/navigation';
import { ConfirmButton } from '@/components/confirm-button';
import { deleteProduct } from '../actions';

export function DeleteProduct({ id, title }: { id: string; title: string }) {
  const router = useRouter();
  return (
    <ConfirmButton
      label="Delete product"
      title="Delete this product?"
      confirmLabel="Delete product"
      onConfirm={async () => {
        const result = await deleteProduct(id);
        if (!result.ok) return result.error;
        router.push('/catalog');
        return null;
      }}
    >
      <p>
        <strong>{title}</strong> and all its images will be removed from the catalog and from
        search. This cannot be undone.
      </p>
    </ConfirmButton>
  );
}
