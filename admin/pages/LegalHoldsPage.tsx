import { useState } from 'preact/hooks';
import type { Static } from 'typebox';
import type { LegalHold, LegalHoldAnswer, LegalHoldList } from '../../contract/legal-holds.ts';
import { Problem, Said, Shown } from '../components/Problem.tsx';
import type { PageProps } from '../lib/console.ts';
import { useAction } from '../lib/use-action.ts';
import { useLoad } from '../lib/use-load.ts';

type Hold = Static<typeof LegalHold>;

function targetOf(hold: Hold): string {
  return hold.target.type === 'phone'
    ? `Every conversation with ${hold.target.phone}`
    : `Conversation ${hold.target.conversationId}`;
}

/** Legal holds (#17 item 3): what retention must keep for a matter, placed and released with a reason. */
export function LegalHoldsPage({ api }: PageProps) {
  const [activeOnly, setActiveOnly] = useState(true);
  const [holds, reload] = useLoad(
    () => api.get<Static<typeof LegalHoldList>>(`/v1/legal-holds${activeOnly ? '?active=true' : ''}`),
    activeOnly ? 'active' : 'all',
  );
  const action = useAction();

  return (
    <section>
      <p class="hint">
        While a hold is active, retention deletes and blanks nothing of its contact’s or conversation’s texts.
        Placing and releasing a hold are recorded in the audit log.
      </p>
      <PlaceHoldForm
        busy={action.busy}
        onPlace={(target, reason) =>
          action.run(async () => {
            const { hold } = await api.post<Static<typeof LegalHoldAnswer>>('/v1/legal-holds', {
              ...target,
              reason,
            });
            return `Hold placed: ${targetOf(hold)}.`;
          }, reload)
        }
      />
      <Said text={action.said} />
      {action.problem !== null && <Problem problem={action.problem} />}
      <h2>Holds</h2>
      <label class="choice">
        <input
          type="checkbox"
          checked={activeOnly}
          onChange={(e) => setActiveOnly((e.currentTarget as HTMLInputElement).checked)}
        />{' '}
        Only active holds
      </label>
      <Shown loaded={holds} busy="Reading the holds…" retry={reload}>
        {({ holds: list }) =>
          list.length === 0 ? (
            <p>{activeOnly ? 'No active holds: retention applies to every text.' : 'No holds yet.'}</p>
          ) : (
            <table>
              <thead>
                <tr>
                  <th scope="col">What is held</th>
                  <th scope="col">Reason</th>
                  <th scope="col">Placed</th>
                  <th scope="col">Released</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {list.map((hold) => (
                  <HoldRow
                    key={hold.id}
                    hold={hold}
                    onRelease={() =>
                      action.run(async () => {
                        await api.post(`/v1/legal-holds/${hold.id}/release`, {});
                        return `Released: ${targetOf(hold)}. The next retention run may purge what it kept.`;
                      }, reload)
                    }
                  />
                ))}
              </tbody>
            </table>
          )
        }
      </Shown>
    </section>
  );
}

type Target = { phone: string } | { conversationId: string };

function PlaceHoldForm({
  busy,
  onPlace,
}: {
  busy: boolean;
  onPlace: (target: Target, reason: string) => Promise<boolean>;
}) {
  const [kind, setKind] = useState<'phone' | 'conversation'>('phone');
  return (
    <form
      aria-label="Place a legal hold"
      onSubmit={async (event) => {
        event.preventDefault();
        const form = event.currentTarget as HTMLFormElement;
        const data = new FormData(form);
        const what = String(data.get('what')).trim();
        const target = kind === 'phone' ? { phone: what } : { conversationId: what };
        if (await onPlace(target, String(data.get('reason')).trim())) form.reset();
      }}
    >
      <h2>Place a hold</h2>
      <fieldset>
        <legend>Hold</legend>
        <label class="choice">
          <input type="radio" name="kind" checked={kind === 'phone'} onChange={() => setKind('phone')} />{' '}
          Every conversation with a contact’s phone number
        </label>
        <label class="choice">
          <input
            type="radio"
            name="kind"
            checked={kind === 'conversation'}
            onChange={() => setKind('conversation')}
          />{' '}
          One conversation
        </label>
      </fieldset>
      <label>
        {kind === 'phone' ? 'Contact’s phone number' : 'Conversation id'}
        <input
          name="what"
          required
          maxLength={kind === 'phone' ? 32 : 36}
          placeholder={kind === 'phone' ? '+1 202 555 0143' : '00000000-0000-0000-0000-000000000000'}
          autocomplete="off"
        />
      </label>
      <label>
        Reason (the matter or request; kept in the audit log)
        <textarea name="reason" rows={2} required maxLength={500} />
      </label>
      <button type="submit" disabled={busy}>
        Place hold
      </button>
    </form>
  );
}

function HoldRow({ hold, onRelease }: { hold: Hold; onRelease: () => Promise<boolean> }) {
  const [confirming, setConfirming] = useState(false);
  return (
    <tr>
      <td>{targetOf(hold)}</td>
      <td>{hold.reason}</td>
      <td>
        {new Date(hold.createdAt).toLocaleString()} by {hold.createdBy}
      </td>
      <td>
        {hold.releasedAt === null
          ? 'Active'
          : `${new Date(hold.releasedAt).toLocaleString()} by ${hold.releasedBy ?? 'someone'}`}
      </td>
      <td>
        {hold.releasedAt === null &&
          (confirming ? (
            <>
              <button type="button" class="danger" onClick={() => void onRelease()}>
                Release: retention may purge it
              </button>
              <button type="button" class="secondary" onClick={() => setConfirming(false)}>
                Keep
              </button>
            </>
          ) : (
            <button type="button" class="secondary" onClick={() => setConfirming(true)}>
              Release…
            </button>
          ))}
      </td>
    </tr>
  );
}
