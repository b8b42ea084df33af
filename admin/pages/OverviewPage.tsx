import type { Static } from 'typebox';
import type { ReviewItemListSchema } from '../../contract/review.ts';
import type { UserList } from '../../contract/users.ts';
import { Busy } from '../components/Problem.tsx';
import { may, type PageProps } from '../lib/console.ts';
import { useLoad } from '../lib/use-load.ts';

interface Glance {
  activeUsers: number | null;
  openReviews: number | null;
  moreReviews: boolean;
}

/** The first page: the org, the admin's role, and what waits for them. */
export function OverviewPage({ api, me }: PageProps) {
  const [glance] = useLoad<Glance>(async () => {
    const [users, reviews] = await Promise.all([
      may(me, 'users.manage') ? api.get<Static<typeof UserList>>('/v1/users') : null,
      may(me, 'review.flagged')
        ? api.get<Static<typeof ReviewItemListSchema>>('/v1/review-items?limit=200')
        : null,
    ]);
    return {
      activeUsers: users === null ? null : users.users.filter((u) => u.status === 'active').length,
      openReviews: reviews === null ? null : reviews.items.length,
      moreReviews: reviews?.nextCursor != null,
    };
  }, 'overview');
  return (
    <section>
      <p>
        Signed in to <strong>{me.orgName}</strong> as {me.displayName}, role <strong>{me.role}</strong>. The
        menu shows the pages your role opens.
      </p>
      {glance.state === 'loading' && <Busy label="Reading what waits for you…" />}
      {glance.state === 'ready' && (
        <ul class="glance">
          {glance.value.openReviews !== null && (
            <li>
              <a href="#/review">
                {glance.value.openReviews}
                {glance.value.moreReviews ? '+' : ''} open review items
              </a>
            </li>
          )}
          {glance.value.activeUsers !== null && (
            <li>
              <a href="#/users">{glance.value.activeUsers} active users</a>
            </li>
          )}
        </ul>
      )}
    </section>
  );
}
