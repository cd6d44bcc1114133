/**
 * The dashboard's one way to the API: the token from sessionStorage as a Bearer header, JSON in
 * and out, and a 401 sends the user back to the sign-in page (the token was revoked or mistyped).
 */
const TOKEN_KEY = 'socstream.token';

export type Role = 'viewer' | 'analyst' | 'admin';

export class ApiError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

const signOutListeners = new Set<(reason: string | undefined) => void>();

export function onSignOut(listener: (reason: string | undefined) => void): () => void {
  signOutListeners.add(listener);
  return () => signOutListeners.delete(listener);
}

export function getToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(token: string): void {
  sessionStorage.setItem(TOKEN_KEY, token);
}

/** `reason` is shown on the sign-in page (absent when the user signed out). */
export function signOut(reason?: string): void {
  sessionStorage.removeItem(TOKEN_KEY);
  for (const l of signOutListeners) l(reason);
}

/** `{ a: 1, b: undefined, c: '' }` → `?a=1`: empty filters are left out. */
export function queryString(params: Record<string, string | number | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params))
    if (v !== undefined && v !== null && v !== '') search.set(k, String(v));
  const s = search.toString();
  return s ? `?${s}` : '';
}

export async function api<T>(
  path: string,
  init: { method?: string; body?: unknown; token?: string; signal?: AbortSignal } = {},
): Promise<T> {
  const token = init.token ?? getToken() ?? '';
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(path, {
      method: init.method ?? 'GET',
      headers,
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      signal: init.signal,
    });
  } catch (err) {
    if (init.signal?.aborted) throw err;
    throw new ApiError(0, 'the server cannot be reached');
  }
  const data = (await res.json().catch(() => null)) as { error?: string } | null;
  if (res.status === 401 && init.token === undefined)
    signOut('The server refused the token (401): sign in again.');
  if (!res.ok) throw new ApiError(res.status, data?.error ?? `${res.status} ${res.statusText}`);
  return data as T;
}
