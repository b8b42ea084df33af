import { useState } from 'preact/hooks';
import type { Static } from 'typebox';
import type { SamlSettingsOrNone } from '../../contract/sso.ts';
import { Problem, Said, Shown } from '../components/Problem.tsx';
import { Reauthenticate } from '../components/Reauthenticate.tsx';
import { may, type PageProps } from '../lib/console.ts';
import { useAction } from '../lib/use-action.ts';
import { useLoad } from '../lib/use-load.ts';
import { useRoleNames } from '../lib/use-roles.ts';

type Settings = Static<typeof SamlSettingsOrNone>;

/** Single sign-on (#17 item 2): what the IdP needs to know, its metadata, and a test sign-in. */
export function SsoPage({ api, me }: PageProps) {
  const [settings, reload] = useLoad(() => api.get<Settings>('/v1/sso/saml'), 'sso');
  const roles = useRoleNames(api, me);
  const action = useAction();
  const [reauth, setReauth] = useState(false);
  const mayChange = may(me, 'sso.manage');

  return (
    <section>
      <Shown loaded={settings} busy="Reading the single sign-on settings…" retry={reload}>
        {(current) => (
          <>
            <ServiceProvider settings={current} />
            {current.configured && <CurrentIdp settings={current} />}
            {mayChange ? (
              <IdpForm
                roles={roles}
                current={current}
                busy={action.busy}
                onSave={(body) =>
                  action.run(async () => {
                    try {
                      await api.put('/v1/sso/saml', body);
                    } catch (error) {
                      if ((error as { code?: string }).code === 'REAUTH_REQUIRED') setReauth(true);
                      throw error;
                    }
                    setReauth(false);
                    return 'Saved. Try a test sign-in before you turn on “single sign-on only”.';
                  }, reload)
                }
              />
            ) : (
              <p class="hint">
                Only someone with the sso.manage permission (owners) can change these settings.
              </p>
            )}
          </>
        )}
      </Shown>
      {reauth && (
        <Reauthenticate
          api={api}
          why="Whoever sets the identity provider can sign in as anyone it names."
          onDone={() => setReauth(false)}
        />
      )}
      <Said text={action.said} />
      {action.problem !== null && <Problem problem={action.problem} />}
    </section>
  );
}

function ServiceProvider({ settings }: { settings: Settings }) {
  const rows: Array<[string, string]> = [
    ['Entity ID (audience)', settings.spEntityId],
    ['Assertion consumer service (ACS) URL, HTTP-POST', settings.acsUrl],
    ['Sign-in link to hand to your people', settings.loginUrl],
  ];
  return (
    <>
      <h2>What your identity provider needs</h2>
      <p class="hint">
        Create a SAML application at your identity provider with these values. It must sign its assertions and
        send the person’s email address as the NameID.
      </p>
      <dl class="facts">
        {rows.map(([label, value]) => (
          <div key={label}>
            <dt>{label}</dt>
            <dd>
              <code>{value}</code>{' '}
              <button
                type="button"
                class="secondary"
                aria-label={`Copy ${label}`}
                onClick={() => void navigator.clipboard?.writeText(value)}
              >
                Copy
              </button>
            </dd>
          </div>
        ))}
      </dl>
    </>
  );
}

function CurrentIdp({ settings }: { settings: Extract<Settings, { configured: true }> }) {
  return (
    <>
      <h2>Your identity provider</h2>
      <dl class="facts">
        <div>
          <dt>Entity ID</dt>
          <dd>{settings.idpEntityId}</dd>
        </div>
        <div>
          <dt>Sign-in URL</dt>
          <dd>{settings.ssoUrl}</dd>
        </div>
        <div>
          <dt>Role of people it signs in for the first time</dt>
          <dd>{settings.defaultRole}</dd>
        </div>
        <div>
          <dt>Single sign-on only</dt>
          <dd>{settings.ssoOnly ? 'Yes: passwords and passkeys are refused' : 'No: passwords still work'}</dd>
        </div>
        <div>
          <dt>Last changed</dt>
          <dd>{new Date(settings.updatedAt).toLocaleString()}</dd>
        </div>
      </dl>
      <a class="button secondary" href={settings.loginUrl} target="_blank" rel="noopener">
        Test sign-in (opens a new tab)
      </a>
    </>
  );
}

type IdpBody = Record<string, string | boolean>;

function IdpForm({
  roles,
  current,
  busy,
  onSave,
}: {
  roles: string[];
  current: Settings;
  busy: boolean;
  onSave: (body: IdpBody) => Promise<boolean>;
}) {
  const [byHand, setByHand] = useState(false);
  const [metadata, setMetadata] = useState('');
  const [fileNote, setFileNote] = useState<string | null>(null);
  return (
    <form
      aria-label="Identity provider"
      onSubmit={(event) => {
        event.preventDefault();
        const data = new FormData(event.currentTarget as HTMLFormElement);
        const idp: IdpBody = byHand
          ? {
              idpEntityId: String(data.get('idpEntityId')).trim(),
              ssoUrl: String(data.get('ssoUrl')).trim(),
              idpCertificate: String(data.get('idpCertificate')).trim(),
            }
          : { metadataXml: metadata.trim() };
        void onSave({
          ...idp,
          defaultRole: String(data.get('defaultRole')),
          ssoOnly: data.get('ssoOnly') === 'on',
        });
      }}
    >
      <h2>{current.configured ? 'Change the identity provider' : 'Set up single sign-on'}</h2>
      <label class="choice">
        <input
          type="checkbox"
          checked={byHand}
          onChange={(e) => setByHand((e.currentTarget as HTMLInputElement).checked)}
        />{' '}
        Enter the entity ID, sign-in URL and certificate by hand instead of metadata
      </label>
      {byHand ? (
        <>
          <label>
            IdP entity ID
            <input name="idpEntityId" required maxLength={1000} />
          </label>
          <label>
            IdP sign-in URL (https, HTTP-Redirect binding)
            <input name="ssoUrl" type="url" required maxLength={2000} />
          </label>
          <label>
            IdP signing certificate (PEM)
            <textarea name="idpCertificate" rows={5} required maxLength={20_000} />
          </label>
        </>
      ) : (
        <>
          <label>
            IdP metadata file (XML)
            <input
              type="file"
              accept=".xml,application/xml,text/xml"
              onChange={async (e) => {
                const file = (e.currentTarget as HTMLInputElement).files?.[0];
                if (file === undefined) return;
                setMetadata(await file.text());
                setFileNote(`Read ${file.name} (${file.size.toLocaleString()} bytes).`);
              }}
            />
          </label>
          {fileNote !== null && <p class="hint">{fileNote}</p>}
          <label>
            Or paste the metadata XML
            <textarea
              rows={6}
              required
              maxLength={60_000}
              value={metadata}
              onInput={(e) => setMetadata((e.currentTarget as HTMLTextAreaElement).value)}
            />
          </label>
        </>
      )}
      <label>
        Role of people it signs in for the first time
        <select name="defaultRole" defaultValue={current.configured ? current.defaultRole : 'rep'}>
          {roles.map((r) => (
            <option key={r} value={r}>
              {r}
            </option>
          ))}
        </select>
      </label>
      <label class="choice">
        <input type="checkbox" name="ssoOnly" defaultChecked={current.configured && current.ssoOnly} /> Single
        sign-on only: refuse passwords and passkeys (turn on after a test sign-in works)
      </label>
      <button type="submit" disabled={busy}>
        {busy ? 'Saving…' : 'Save identity provider'}
      </button>
    </form>
  );
}
