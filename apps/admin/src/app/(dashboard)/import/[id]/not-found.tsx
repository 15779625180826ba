import Link from 'next/link';

export default function ImportNotFound() {
  return (
    <div className="stack">
      <h1>Import not found</h1>
      <p>
        No import of this merchant has this id. <Link href="/import">Back to the imports</Link>
      </p>
    </div>
  );
}
