'use client';

import { useRouter } from 'next/navigation';
import { ConfirmButton } from '@/components/confirm-button';
import { removeImage } from '../actions';

export function RemoveImage({
  productId,
  imageId,
  index,
}: {
  productId: string;
  imageId: string;
  index: number;
}) {
  const router = useRouter();
  return (
    <ConfirmButton
      label="Remove"
      buttonLabel={`Remove image ${index}`}
      title={`Remove image ${index}?`}
      confirmLabel="Remove image"
      onConfirm={async () => {
        const result = await removeImage(productId, imageId);
        if (!result.ok) return result.error;
        router.refresh();
        return null;
      }}
    >
      <p>
        The image leaves the product and search. Other products using the same picture keep theirs.
      </p>
    </ConfirmButton>
  );
}
