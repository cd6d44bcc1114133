import { useState } from 'preact/hooks';
import { ApiError, api, type Role } from '../api.ts';

/** Checks the token against the API (GET /api/me) before keeping it. */
export function SignIn({
  onSignedIn,
  reason,
}: {
  onSignedIn: (token: string, role: Role, name: string) => void;
  reason?: string;
}) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: Event) {
    e.preventDefault();
    setBusy(true);
    try {
      const me = await api<{ name: string; role: Role }>('/api/me', { token: token.trim() });
      onSignedIn(token.trim(), me.role, me.name);
    } catch (err) {
      setError(
        err instanceof ApiError && err.status === 401 ? 'That token is not valid.' : (err as Error).message,
      );
    } finally {
      setBusy(false);
    }
  }

  return (
    <main class="sign-in">
      <form onSubmit={submit} aria-labelledby="sign-in-title">
        <h1 id="sign-in-title">socstream</h1>
        <p class="hint">
          Sign in with an API token: <code>socstream demo</code> and <code>socstream serve</code> print one
          when they start.
        </p>
        {reason && <p class="state">{reason}</p>}
        <label>
          API token
          <input
            type="password"
            name="token"
            autoComplete="off"
            required
            value={token}
            onInput={(e) => setToken(e.currentTarget.value)}
          />
        </label>
        {error && (
          <p class="state error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy || !token.trim()}>
          {busy ? 'Checking…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
