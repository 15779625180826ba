import type { Metadata } from 'next';
import Link from 'next/link';
import { Thumb } from '@/components/product-thumb';
import { formatPrice, labelsToText, parseLabelFilter } from '@/lib/format';
import { ProductsDocument } from '@lookalike/sdk';
import { requireSession } from '@/server/session';

export const metadata: Metadata = { title: 'Catalog' };

const PAGE_SIZE = 24;

type Params = Record<string, string | string[] | undefined>;
const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v)?.trim() ?? '';

/** The URL of a catalog page: filters, the cursor, and the cursors before it (for "Previous"). */
function pageHref(
  filters: { q: string; category: string; labels: string },
  after?: string,
  trail: string[] = [],
) {
  const p = new URLSearchParams();
  if (filters.q) p.set('q', filters.q);
  if (filters.category) p.set('category', filters.category);
  if (filters.labels) p.set('labels', filters.labels);
  if (after) p.set('after', after);
  if (trail.length) p.set('trail', trail.join('.'));
  const s = p.toString();
  return s ? `/catalog?${s}` : '/catalog';
}

export default async function CatalogPage({ searchParams }: { searchParams: Promise<Params> }) {
  const { api } = await requireSession();
  const params = await searchParams;
  const filters = { q: one(params.q), category: one(params.category), labels: one(params.labels) };
  const after = one(params.after) || undefined;
  const trail = one(params.trail) ? one(params.trail).split('.') : [];
  const labels = filters.labels ? parseLabelFilter(filters.labels) : {};
  const filter = {
    ...(filters.q ? { query: filters.q } : {}),
    ...(filters.category ? { category: filters.category } : {}),
    ...(labels && Object.keys(labels).length ? { labels } : {}),
  };
  const { products } = await api.request(ProductsDocument, {
    first: PAGE_SIZE,
    after,
    filter,
  });
  const start = trail.length * PAGE_SIZE + (after ? PAGE_SIZE : 0);
  const categories = [
    ...new Set(products.edges.map((e) => e.node.category).filter((c): c is string => !!c)),
  ].sort();
  const filtered = Object.keys(filter).length > 0;

  return (
    <div className="stack">
      <div className="page-head">
        <div>
          <h1>Catalog</h1>
          <p className="muted" data-testid="catalog-total">
            {products.totalCount.toLocaleString('en')}{' '}
            {products.totalCount === 1 ? 'product' : 'products'}
            {filtered ? ' match these filters' : ' in the catalog'}
          </p>
        </div>
        <Link className="button primary" href="/upload">
          Upload images
        </Link>
      </div>

      <form
        className="panel filters"
        method="get"
        action="/catalog"
        role="search"
        aria-label="Filter products"
      >
        <div className="field">
          <label htmlFor="q">Title contains</label>
          <input
            id="q"
            name="q"
            type="search"
            defaultValue={filters.q}
            placeholder="e.g. sneaker"
          />
        </div>
        <div className="field">
          <label htmlFor="category">Category</label>
          <input
            id="category"
            name="category"
            type="text"
            list="categories"
            defaultValue={filters.category}
            placeholder="any"
          />
          <datalist id="categories">
            {categories.map((c) => (
              <option key={c} value={c} />
            ))}
          </datalist>
        </div>
        <div className="field">
          <label htmlFor="labels">Labels</label>
          <input
            id="labels"
            name="labels"
            type="text"
            defaultValue={filters.labels}
            placeholder="color=red, size=M"
            aria-invalid={labels === null ? true : undefined}
            aria-describedby="labels-hint"
          />
        </div>
        <div className="row">
          <button type="submit" className="primary">
            Filter
          </button>
          {filtered && (
            <Link href="/catalog" className="button">
              Clear
            </Link>
          )}
        </div>
        {labels === null && (
          <p
            id="labels-hint"
            role="alert"
            className="hint"
            style={{ color: 'var(--bad)', gridColumn: '1 / -1' }}
          >
            Labels are written key=value, separated by commas; this filter was ignored.
          </p>
        )}
      </form>

      {products.edges.length === 0 ? (
        <div className="panel">
          {filtered ? (
            <p>No product matches these filters.</p>
          ) : (
            <p>
              The catalog is empty. <Link href="/upload">Upload product images</Link> to start.
            </p>
          )}
        </div>
      ) : (
        <>
          <ul
            className="product-grid"
            aria-label="Products"
            style={{ listStyle: 'none', margin: 0, padding: 0 }}
          >
            {products.edges.map(({ node: p }) => (
              <li key={p.id}>
                <Link href={`/catalog/${p.id}`} className="card" data-external-id={p.externalId}>
                  <Thumb sha256={p.images[0]?.sha256} alt={p.title} />
                  <div className="card-body">
                    <span className="card-title" title={p.title}>
                      {p.title}
                    </span>
                    <span className="card-meta">
                      <span className="mono">{p.externalId}</span>
                      <span>{formatPrice(p.price, p.currency)}</span>
                    </span>
                    <span className="card-meta">
                      <span>{p.category ?? 'no category'}</span>
                      <span>
                        {p.images.length} {p.images.length === 1 ? 'image' : 'images'}
                      </span>
                    </span>
                    {labelsToText(p.labels) && (
                      <span className="card-meta">{labelsToText(p.labels)}</span>
                    )}
                  </div>
                </Link>
              </li>
            ))}
          </ul>
          <nav className="pager" aria-label="Pages">
            {after ? (
              <Link className="button" href={pageHref(filters, trail.at(-1), trail.slice(0, -1))}>
                ← Previous
              </Link>
            ) : (
              <span />
            )}
            <span className="muted small">
              {start + 1}–{start + products.edges.length} of{' '}
              {products.totalCount.toLocaleString('en')}
            </span>
            {products.pageInfo.hasNextPage && products.pageInfo.endCursor ? (
              <Link
                className="button"
                href={pageHref(
                  filters,
                  products.pageInfo.endCursor,
                  after ? [...trail, after] : trail,
                )}
              >
                Next →
              </Link>
            ) : (
              <span />
            )}
          </nav>
        </>
      )}
    </div>
  );
}
