import Link from 'next/link';

export default function ProductNotFound() {
  return (
    <div className="stack">
      <h1>Product not found</h1>
      <p>
        It may have been deleted. <Link href="/catalog">Back to the catalog</Link>
      </p>
    </div>
  );
}
