import type { Metadata } from 'next';
import Link from 'next/link';
import { notFound } from 'next/navigation';
import { formatBytes, formatDate, formatPrice } from '@/lib/format';
import { ProductDocument } from '@lookalike/sdk';
import { ApiError } from '@/server/graphql';
import { requireSession } from '@/server/session';
import { AddImages } from './add-images';
import { DeleteProduct } from './delete-product';
import { ProductForm } from './product-form';
import { RemoveImage } from './remove-image';

export const metadata: Metadata = { title: 'Product' };

export default async function ProductPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const session = await requireSession();
  const { product } = await session.api.request(ProductDocument, { id }).catch((error: unknown) => {
    // A malformed id is "not found" to the API too.
    if (error instanceof ApiError && error.code === 'NOT_FOUND') return { product: null };
    throw error;
  });
  if (!product) notFound();
  const canWrite = session.can('CATALOG_WRITE');

  return (
    <div className="stack">
      <div className="page-head">
        <div>
          <p className="small">
            <Link href="/catalog">← Catalog</Link>
          </p>
          <h1>{product.title}</h1>
          <p className="muted">
            <span className="mono">{product.externalId}</span> · {product.category ?? 'no category'}
            {product.price != null && <> · {formatPrice(product.price, product.currency)}</>} ·
            updated {formatDate(product.updatedAt)}
          </p>
        </div>
        {canWrite && <DeleteProduct id={product.id} title={product.title} />}
      </div>
      {!canWrite && (
        <div className="alert warn">
          This key has no CATALOG_WRITE scope: the product is read-only here.
        </div>
      )}

      <div className="detail">
        <section className="panel stack" aria-labelledby="images-h">
          <h2 id="images-h">
            Images <span className="muted small">({product.images.length})</span>
          </h2>
          {product.images.length === 0 && (
            <p className="muted">No images yet: this product cannot be found by picture.</p>
          )}
          <ul className="image-strip" style={{ listStyle: 'none', margin: 0, padding: 0 }}>
            {product.images.map((img, i) => (
              <li key={img.id}>
                <figure className="image-tile" style={{ margin: 0 }}>
                  <div className="thumb">
                    <a href={`/images/${img.sha256}`} target="_blank" rel="noreferrer">
                      <img
                        src={`/images/${img.sha256}?w=256`}
                        alt={`${product.title}, image ${i + 1}`}
                        loading="lazy"
                      />
                    </a>
                  </div>
                  <figcaption>
                    <span className="muted">
                      {img.width}×{img.height} · {formatBytes(img.byteSize)}
                      {img.status !== 'READY' && <span className="badge">{img.status}</span>}
                    </span>
                    {canWrite && (
                      <RemoveImage productId={product.id} imageId={img.id} index={i + 1} />
                    )}
                  </figcaption>
                </figure>
              </li>
            ))}
          </ul>
          {canWrite && <AddImages productId={product.id} />}
        </section>

        <section className="panel" aria-labelledby="edit-h">
          <h2 id="edit-h">Details</h2>
          <ProductForm product={product} readOnly={!canWrite} />
        </section>
      </div>
    </div>
  );
}
