'use client';

import Link from 'next/link';
import { usePathname } from 'next/navigation';

const LINKS = [
  { href: '/catalog', label: 'Catalog' },
  { href: '/upload', label: 'Upload' },
  { href: '/import', label: 'Import' },
  { href: '/search', label: 'Search playground' },
  { href: '/tuning', label: 'Tuning studio' },
  { href: '/models', label: 'Models' },
  { href: '/webhooks', label: 'Webhooks' },
  { href: '/keys', label: 'API keys' },
] as const;

export function Nav() {
  const path = usePathname();
  return (
    <nav className="nav" aria-label="Dashboard">
      {LINKS.map((l) => (
        <Link
          key={l.href}
          href={l.href}
          aria-current={path === l.href || path.startsWith(`${l.href}/`) ? 'page' : undefined}
        >
          {l.label}
        </Link>
      ))}
    </nav>
  );
}
