import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { getToken, onSignOut, type Role, setToken, signOut } from './api.ts';
import { currentZone, loadZone, saveZone } from './format.ts';
import { connectLive, disconnectLive, useLiveStatus } from './live.ts';
import { AlertDetailPage } from './pages/alert-detail.tsx';
import { AlertsPage } from './pages/alerts.tsx';
import { EventsPage } from './pages/events.tsx';
import { LivePage } from './pages/live-tail.tsx';
import { Overview } from './pages/overview.tsx';
import { SignIn } from './pages/sign-in.tsx';
import { hrefTo, type Location, useLocation } from './route.ts';
import './styles.css';

/**
 * The dashboard: hash routes with a query (#/events?src_ip=…&from=now-1h&to=now, see route.ts) so
 * the server only has to serve index.html and every view can be shared, and a token held in
 * sessionStorage for the tab's life.
 */
const ROLE_KEY = 'socstream.role';
const NAME_KEY = 'socstream.name';

const NAV = [
  { path: '/', text: 'Overview' },
  { path: '/alerts', text: 'Alerts' },
  { path: '/events', text: 'Events' },
  { path: '/live', text: 'Live' },
] as const;

/** The time range and refresh go along from page to page; filters stay with their page. */
const CARRIED = ['from', 'to', 'refresh'] as const;

loadZone();

function Page({ loc, role }: { loc: Location; role: Role | null }) {
  const detail = /^\/alerts\/(.+)$/.exec(loc.path);
  if (detail) return <AlertDetailPage id={decodeURIComponent(detail[1])} role={role} />;
  switch (loc.path) {
    case '/alerts':
      return <AlertsPage role={role} params={loc.params} />;
    case '/events':
      return <EventsPage params={loc.params} />;
    case '/live':
      return <LivePage />;
    case '/':
      return <Overview params={loc.params} />;
    default:
      return (
        <p class="state">
          No page here. <a href="#/">Go to the overview</a>.
        </p>
      );
  }
}

function App() {
  const [token, setTokenState] = useState(getToken);
  const [role, setRole] = useState<Role | null>(() => sessionStorage.getItem(ROLE_KEY) as Role | null);
  const [name, setName] = useState<string | null>(() => sessionStorage.getItem(NAME_KEY));
  const [reason, setReason] = useState<string | undefined>();
  const [zone, setZone] = useState(currentZone);
  const loc = useLocation();
  const live = useLiveStatus();

  useEffect(
    () =>
      onSignOut((why) => {
        sessionStorage.removeItem(ROLE_KEY);
        sessionStorage.removeItem(NAME_KEY);
        setTokenState(null);
        setReason(why);
      }),
    [],
  );
  useEffect(() => {
    if (token) connectLive(token);
    return disconnectLive;
  }, [token]);

  if (!token) {
    return (
      <SignIn
        reason={reason}
        onSignedIn={(t, r, n) => {
          setToken(t);
          sessionStorage.setItem(ROLE_KEY, r);
          sessionStorage.setItem(NAME_KEY, n);
          setRole(r);
          setName(n);
          setReason(undefined);
          setTokenState(t);
        }}
      />
    );
  }
  const section = `/${loc.path.split('/')[1] ?? ''}`;
  return (
    <>
      <a class="skip" href="#content">
        Skip to content
      </a>
      <header class="top">
        <span class="brand">socstream</span>
        <nav aria-label="Main">
          {NAV.map((n) => (
            <a
              key={n.path}
              href={hrefTo(n.path, Object.fromEntries(CARRIED.map((k) => [k, loc.params.get(k)])))}
              aria-current={section === n.path ? 'page' : undefined}
            >
              {n.text}
            </a>
          ))}
        </nav>
        <span class={`conn conn-${live}`} title="live stream">
          {live === 'open' ? 'live' : live}
        </span>
        <label class="zone">
          <span class="visually-hidden">Time zone</span>
          <select
            value={zone}
            aria-label="Time zone"
            onChange={(e) => {
              const z = e.currentTarget.value === 'utc' ? 'utc' : 'local';
              saveZone(z);
              setZone(z);
            }}
          >
            <option value="local">Local time</option>
            <option value="utc">UTC</option>
          </select>
        </label>
        <span class="who" data-testid="who">
          {name ?? ''}
          {role ? ` (${role})` : ''}
        </span>
        <button type="button" class="secondary" onClick={() => signOut()}>
          Sign out
        </button>
      </header>
      <main id="content" tabIndex={-1} key={zone}>
        <Page loc={loc} role={role} />
      </main>
    </>
  );
}

render(<App />, document.getElementById('app') as HTMLElement);
