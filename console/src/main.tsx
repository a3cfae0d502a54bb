/**
 * The admin console: sign-in, the layout with its navigation, and a hash router (#/rules,
 * #/contracts/3, …) so every page has a URL without any server-side routing.
 */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, messageOf, setUnauthorizedHandler } from './api';
import { ContractsPage } from './pages/contracts';
import { RulesPage } from './pages/rules';
import { TicketsPage } from './pages/tickets';
import { TriagePage } from './pages/triage';
import { clearToken, getToken, setToken, type Me } from './session';
import './styles.css';

function useHash(): string {
  const [hash, setHash] = useState(location.hash || '#/tickets');
  useEffect(() => {
    const on = () => setHash(location.hash || '#/tickets');
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return hash;
}

function SignIn({ onSignedIn, notice }: { onSignedIn: (me: Me) => void; notice: string | null }) {
  const [token, setTokenValue] = useState('');
  const [error, setError] = useState<string | null>(notice);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const me = await api<Me>('GET', '/me', undefined, token.trim());
      setToken(token.trim());
      onSignedIn(me);
    } catch (err) {
      setError(err instanceof ApiError && err.status === 401 ? 'That token is not valid (unknown or revoked).' : messageOf(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="sign-in">
      <form onSubmit={submit} class="card">
        <h1>Alert hub console</h1>
        <p class="muted">Sign in with an API token. It is kept for this browser tab only.</p>
        <label for="token">API token</label>
        <input id="token" type="password" autocomplete="off" value={token} onInput={(e) => setTokenValue(e.currentTarget.value)} required />
        <button type="submit" class="primary" disabled={busy || !token.trim()}>
          Sign in
        </button>
        {error && (
          <p role="alert" class="error">
            {error}
          </p>
        )}
      </form>
    </main>
  );
}

const NAV = [
  ['#/rules', 'Rules'],
  ['#/contracts', 'Contracts'],
  ['#/triage', 'Triage'],
  ['#/tickets', 'Tickets'],
] as const;

function Layout({ me, onSignOut }: { me: Me; onSignOut: () => void }) {
  const hash = useHash();
  const [, section = 'tickets', ...rest] = hash.split('/');
  let page;
  if (section === 'rules') page = <RulesPage me={me} />;
  else if (section === 'contracts') page = <ContractsPage me={me} id={rest[0]} action={rest[1]} />;
  else if (section === 'triage') page = <TriagePage me={me} />;
  else page = <TicketsPage me={me} id={rest[0]} />;
  const scope = me.all ? 'all companies' : me.companies.length ? me.companies.map((c) => c.name).join(', ') : 'no companies';
  return (
    <div class="shell">
      <header class="top">
        <span class="brand">Alert hub</span>
        <nav aria-label="Main">
          {NAV.map(([href, label]) => (
            <a href={href} aria-current={`#/${section}` === href ? 'page' : undefined}>
              {label}
            </a>
          ))}
          <a href="/docs">API docs</a>
        </nav>
        <span class="who" title={`scope: ${scope}`}>
          {me.name} · {me.role} · {scope}
        </span>
        <button type="button" onClick={onSignOut}>
          Sign out
        </button>
      </header>
      <main class="page">{page}</main>
    </div>
  );
}

/** `/console#token=…` (the demo prints one): kept for this tab, then dropped from the address bar and history. */
function takeTokenFromUrl(): void {
  const m = /^#token=([^&]+)$/.exec(location.hash);
  if (!m?.[1]) return;
  setToken(decodeURIComponent(m[1]));
  history.replaceState(null, '', `${location.pathname}#/tickets`);
}
takeTokenFromUrl();

function App() {
  const [me, setMe] = useState<Me | null>(null);
  const [checking, setChecking] = useState(Boolean(getToken()));
  const [notice, setNotice] = useState<string | null>(null);
  useEffect(() => {
    setUnauthorizedHandler(() => {
      setMe(null);
      setNotice('The server no longer accepts this token; sign in again.');
    });
    if (!getToken()) return;
    api<Me>('GET', '/me')
      .then(setMe)
      .catch(() => clearToken())
      .finally(() => setChecking(false));
  }, []);
  if (checking) return <p class="muted page">Loading…</p>;
  if (!me) return <SignIn onSignedIn={setMe} notice={notice} />;
  return (
    <Layout
      me={me}
      onSignOut={() => {
        clearToken();
        setMe(null);
        setNotice(null);
      }}
    />
  );
}

render(<App />, document.getElementById('app')!);
