import type { Static } from 'typebox';
import type { OAuthStart } from '../../contract/crm.ts';
import type { AdminApi } from '../lib/api.ts';
import { useAction } from '../lib/use-action.ts';
import { Busy, Problem } from './Problem.tsx';

const CRMS = [
  { id: 'hubspot', label: 'HubSpot' },
  { id: 'salesforce', label: 'Salesforce' },
] as const;

/**
 * Connecting a CRM account through its consent page: the relay hands out the CRM's authorize URL
 * with a single-use state, the CRM sends the admin back to the relay, whose page links back here.
 */
export function ConnectCrm({ api, connected }: { api: AdminApi; connected: readonly string[] }) {
  const action = useAction();
  return (
    <section aria-label="Connect a CRM">
      <h2>Connect a CRM account</h2>
      <p class="hint">
        You sign in to the CRM and approve access; the relay stores its tokens sealed. Connecting again
        replaces the tokens (after a CRM password change, say).
      </p>
      {CRMS.map((crm) => (
        <button
          key={crm.id}
          type="button"
          class={connected.includes(crm.id) ? 'secondary' : ''}
          disabled={action.busy}
          onClick={() =>
            void action.run(async () => {
              const start = await api.get<Static<typeof OAuthStart>>(`/v1/admin/crm/${crm.id}/oauth/start`);
              location.assign(start.url);
              return `Opening ${crm.label}…`;
            })
          }
        >
          {connected.includes(crm.id) ? `Reconnect ${crm.label}` : `Connect ${crm.label}`}
        </button>
      ))}
      {action.busy && <Busy label="Asking the relay for the CRM's sign-in page…" />}
      {action.problem !== null && <Problem problem={action.problem} />}
    </section>
  );
}
