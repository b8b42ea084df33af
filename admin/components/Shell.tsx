import { useEffect, useRef } from 'preact/hooks';
import type { PageProps } from '../lib/console.ts';
import { may } from '../lib/console.ts';
import { PAGES } from '../pages/registry.ts';

/**
 * The console's frame: who is signed in, the pages their role opens (others are not offered, and
 * the relay would refuse them), and the current page. Focus moves to a page's heading when it
 * opens, so keyboard and screen-reader users land on it.
 */
export function Shell({ api, me, route, onSignOut }: PageProps & { route: string; onSignOut: () => void }) {
  const pages = PAGES.filter((p) => p.permission === null || may(me, p.permission));
  const page = pages.find((p) => p.id === route) ?? pages[0];
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), [page?.id]);
  const refused = route !== '' && page?.id !== route && PAGES.some((p) => p.id === route);
  return (
    <div class="shell">
      <a class="skip" href="#page">
        Skip to the page
      </a>
      <header>
        <span class="brand">CRM Texting · {me.orgName}</span>
        <span class="who">
          {me.displayName} ({me.role})
        </span>
        <button type="button" class="secondary" onClick={onSignOut}>
          Sign out
        </button>
      </header>
      <nav aria-label="Console">
        <ul>
          {pages.map((p) => (
            <li key={p.id}>
              <a href={`#/${p.id}`} aria-current={p.id === page?.id ? 'page' : undefined}>
                {p.title}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <main id="page">
        {page !== undefined && (
          <>
            <h1 tabIndex={-1} ref={heading}>
              {page.title}
            </h1>
            {refused && (
              <p class="notice" role="status">
                Your role ({me.role}) does not open that page; ask an owner for a role that does.
              </p>
            )}
            <page.component api={api} me={me} />
          </>
        )}
      </main>
    </div>
  );
}
