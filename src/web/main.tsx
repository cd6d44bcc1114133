import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { getToken, onSignOut, type Role, setToken, signOut } from './api.ts';
import { connectLive, disconnectLive, useLiveStatus } from './live.ts';
import { AlertDetailPage } from './pages/alert-detail.tsx';
import { AlertsPage } from './pages/alerts.tsx';
import { EventsPage } from './pages/events.tsx';
import { LivePage } from './pages/live-tail.tsx';
import { Overview } from './pages/overview.tsx';
import { SignIn } from './pages/sign-in.tsx';
import './styles.css';

/**
 * The dashboard: hash routes (#/, #/alerts, #/alerts/<id>, #/events, #/live) so the server only
 * has to serve index.html, and a token held in sessionStorage for the tab's life.
 */
const ROLE_KEY = 'socstream.role';

const NAV = [
  { href: '#/', text: 'Overview' },
  { href: '#/alerts', text: 'Alerts' },
  { href: '#/events', text: 'Events' },
  { href: '#/live', text: 'Live' },
] as const;

function currentRoute(): string {
  return location.hash.replace(/^#/, '') || '/';
}

function useRoute(): string {
  const [route, setRoute] = useState(currentRoute);
  useEffect(() => {
    const onHash = () => setRoute(currentRoute());
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);
  return route;
}

function Page({ route, role }: { route: string; role: Role | null }) {
  const detail = /^\/alerts\/(.+)$/.exec(route);
  if (detail) return <AlertDetailPage id={decodeURIComponent(detail[1])} role={role} />;
  switch (route) {
    case '/alerts':
      return <AlertsPage role={role} />;
    case '/events':
      return <EventsPage />;
    case '/live':
      return <LivePage />;
    case '/':
      return <Overview />;
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
  const [reason, setReason] = useState<string | undefined>();
  const route = useRoute();
  const live = useLiveStatus();

  useEffect(
    () =>
      onSignOut((why) => {
        sessionStorage.removeItem(ROLE_KEY);
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
        onSignedIn={(t, r) => {
          setToken(t);
          sessionStorage.setItem(ROLE_KEY, r);
          setRole(r);
          setReason(undefined);
          setTokenState(t);
        }}
      />
    );
  }
  const section = `/${route.split('/')[1] ?? ''}`;
  return (
    <>
      <a class="skip" href="#content">
        Skip to content
      </a>
      <header class="top">
        <span class="brand">socstream</span>
        <nav aria-label="Main">
          {NAV.map((n) => (
            <a key={n.href} href={n.href} aria-current={section === n.href.slice(1) ? 'page' : undefined}>
              {n.text}
            </a>
          ))}
        </nav>
        <span class={`conn conn-${live}`} title="live stream">
          {live === 'open' ? 'live' : live}
        </span>
        <span class="who">{role ?? ''}</span>
        <button type="button" class="secondary" onClick={() => signOut()}>
          Sign out
        </button>
      </header>
      <main id="content" tabIndex={-1}>
        <Page route={route} role={role} />
      </main>
    </>
  );
}

render(<App />, document.getElementById('app') as HTMLElement);
