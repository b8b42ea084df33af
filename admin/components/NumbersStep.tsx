import { useEffect, useRef, useState } from 'preact/hooks';
import type { Static } from 'typebox';
import type { MessageWithHistorySchema, SendAcceptedSchema } from '../../contract/messages.ts';
import type { NumberListSchema } from '../../contract/numbers.ts';
import type { AdminApi, ApiProblem } from '../lib/api.ts';
import type { Principal } from '../lib/console.ts';
import { asProblem, useLoad } from '../lib/use-load.ts';
import { Busy, Problem, Said, Shown } from './Problem.tsx';
import { SenderNumbers } from './SenderNumbers.tsx';

/**
 * The setup wizard's first step: which SMS network the relay sends through, the org's sender
 * numbers (added here), and a test text to the admin's own mobile followed to the provider's answer.
 */
export function NumbersStep({
  api,
  me,
  onTested,
}: {
  api: AdminApi;
  me: Principal;
  onTested: (what: string) => void;
}) {
  const [numbers, reload] = useLoad(() => api.get<Static<typeof NumberListSchema>>('/v1/numbers'), 'numbers');
  const [phone, setPhone] = useState('');
  const [from, setFrom] = useState<string | null>(null);
  const [progress, setProgressText] = useState<string | null>(null);
  const [said, setSaid] = useState<string | null>(null);
  const [problem, setProblem] = useState<ApiProblem | null>(null);
  const [own, setOwn] = useState(false);
  // The delivery poll stops when the admin leaves the step.
  const mounted = useRef(true);
  useEffect(
    () => () => {
      mounted.current = false;
    },
    [],
  );

  async function testText(from: string) {
    setProblem(null);
    setSaid(null);
    try {
      setProgressText('Recording that this phone is yours and agrees to the test…');
      await api.post('/v1/consent', {
        phone,
        kind: 'opt_in',
        source: 'web_form',
        evidence: 'Entered by the admin as their own phone for the setup test text (admin console)',
      });
      setProgressText('Sending the test text…');
      const sent = await api.post<Static<typeof SendAcceptedSchema>>(
        '/v1/messages',
        {
          from,
          to: phone,
          body: 'This is the CRM Texting setup test: your sender number works. Reply STOP to opt out.',
        },
        { 'idempotency-key': crypto.randomUUID() },
      );
      // Follow it to the provider's answer, for up to half a minute, while this step is shown.
      let status = sent.message.status;
      for (let i = 0; i < 30 && mounted.current; i++) {
        status = (await api.get<Static<typeof MessageWithHistorySchema>>(`/v1/messages/${sent.message.id}`))
          .message.status;
        setProgressText(`The test text is ${status}…`);
        if (['delivered', 'undelivered', 'failed'].includes(status)) break;
        await new Promise((r) => setTimeout(r, 1000));
      }
      const final = ['delivered', 'undelivered', 'failed'].includes(status);
      const outcome = final
        ? `Test text from ${from} to ${phone}: ${status}.`
        : `Test text from ${from} to ${phone}: still ${status} after half a minute. The provider has not answered yet; its delivery report shows under Reports when it does.`;
      setSaid(outcome);
      onTested(outcome);
    } catch (error) {
      setProblem(asProblem(error));
    } finally {
      setProgressText(null);
    }
  }

  return (
    <Shown loaded={numbers} busy="Reading your sender numbers…" retry={reload}>
      {({ numbers: list, provider }) => (
        <>
          <p>
            {provider === 'sandbox' ? (
              <>
                This relay runs the sandbox SMS network: texts reach the simulated phones at{' '}
                <a href="/sandbox/phone">/sandbox/phone</a> and nothing leaves. The relay’s operator connects
                Plivo (SMS_PROVIDER=plivo with PLIVO_AUTH_ID and PLIVO_AUTH_TOKEN) to go live.
              </>
            ) : (
              `Texts go out through ${provider === 'plivo' ? 'Plivo' : provider}, connected by the relay’s operator. Add the numbers rented on that account; each is checked with it.`
            )}
          </p>
          <SenderNumbers api={api} me={me} numbers={list} reload={reload} titled={false} />
          {list.length > 0 && (
            <fieldset>
              <legend>Send a test text</legend>
              <p>Send a test text to your own mobile to see one leave and arrive.</p>
              {list.length > 1 && (
                <label>
                  From
                  <select
                    value={from ?? list[0]?.e164}
                    onChange={(e) => setFrom((e.currentTarget as HTMLSelectElement).value)}
                  >
                    {list.map((n) => (
                      <option key={n.id} value={n.e164}>
                        {n.e164}
                        {n.label === null ? '' : ` (${n.label})`}
                      </option>
                    ))}
                  </select>
                </label>
              )}
              <label>
                Your mobile number
                <input
                  type="tel"
                  autocomplete="tel"
                  value={phone}
                  onInput={(e) => setPhone((e.currentTarget as HTMLInputElement).value)}
                />
              </label>
              <label class="choice">
                <input
                  type="checkbox"
                  checked={own}
                  onChange={(e) => setOwn((e.currentTarget as HTMLInputElement).checked)}
                />{' '}
                This is my own mobile, and I agree to one test text (recorded as my consent)
              </label>
              <button
                type="button"
                disabled={phone.trim() === '' || !own || progress !== null}
                onClick={() => void testText(from ?? list[0]?.e164 ?? '')}
              >
                Send a test text
              </button>
              {progress !== null && <Busy label={progress} />}
              <Said text={said} />
              {problem !== null && <Problem problem={problem} />}
            </fieldset>
          )}
        </>
      )}
    </Shown>
  );
}
