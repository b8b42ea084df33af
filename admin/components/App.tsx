import { useEffect, useState } from 'preact/hooks';
import type { AdminApi } from '../lib/api.ts';
import type { Principal } from '../lib/console.ts';
import { takeSsoReturn } from '../lib/sso.ts';
import { asProblem, useLoad } from '../lib/use-load.ts';
import { Busy, Problem } from './Problem.tsx';
import { Shell } from './Shell.tsx';
import { SignIn } from './SignIn.tsx';

/** The page's hash route (#/users → users), followed as the admin moves between pages. */
function useHashRoute(): string {
  const read = () => location.hash.replace(/^#\/?/, '').split('?')[0] ?? '';
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const follow = () => setRoute(read());
    addEventListener('hashchange', follow);
    return () => removeEventListener('hashchange', follow);
  }, []);
  return route;
}

/** Signed out: the sign-in form; signed in: who they are, then the console. */
export function App({ api }: { api: AdminApi }) {
  const [signedIn, setSignedIn] = useState(api.signedIn);
  const [notice, setNotice] = useState<string | null>(null);
  const route = useHashRoute();
  useEffect(() => {
    // Signed in already: an SSO return (a code in the address) is not used; it leaves the address
    // and history, and the tab forgets the sign-in it was waiting for.
    if (api.signedIn && takeSsoReturn(location.hash) !== null)
      location.replace(`${location.pathname}#/overview`);
  }, [api]);
  useEffect(() => {
    api.onSignedOut = (reason) => {
      setNotice(`You were signed out: ${reason}`);
      setSignedIn(false);
    };
  }, [api]);
  const [me, reload] = useLoad<Principal | null>(
    () => (signedIn ? api.get<Principal>('/v1/me') : Promise.resolve(null)),
    String(signedIn),
  );

  if (!signedIn)
    return (
      <SignIn
        api={api}
        notice={notice}
        onSignedIn={() => {
          setNotice(null);
          setSignedIn(true);
        }}
      />
    );
  if (me.state === 'loading') return <Busy label="Opening the console…" />;
  if (me.state === 'failed') return <Problem problem={asProblem(me.problem)} retry={reload} />;
  if (me.value === null) return <Busy label="Opening the console…" />;
  return (
    <Shell
      api={api}
      me={me.value}
      route={route}
      onSignOut={() => {
        void api.signOut().then(() => {
          setNotice('You signed out.');
          setSignedIn(false);
        });
      }}
    />
  );
}
