import { useEffect, useState } from 'preact/hooks';

/**
 * Hash routes with a query: `#/events?src_ip=203.0.113.9&from=now-1h&to=now`. The whole state of a
 * page (filters, time range, refresh) lives in the URL, so a view can be bookmarked and shared and
 * every figure on the overview can link straight to a filtered page.
 */
export interface Location {
  path: string;
  params: URLSearchParams;
}

export function parseHash(hash: string): Location {
  const text = hash.replace(/^#/, '') || '/';
  const q = text.indexOf('?');
  return q < 0
    ? { path: text, params: new URLSearchParams() }
    : { path: text.slice(0, q) || '/', params: new URLSearchParams(text.slice(q + 1)) };
}

export type ParamValues = Record<string, string | number | null | undefined>;

/** `#/path?k=v`, leaving out empty values. */
export function hrefTo(path: string, params: ParamValues | URLSearchParams = {}): string {
  const search = new URLSearchParams();
  const entries = params instanceof URLSearchParams ? [...params] : Object.entries(params);
  for (const [k, v] of entries) if (v !== undefined && v !== null && v !== '') search.set(k, String(v));
  const s = search.toString();
  return `#${path}${s ? `?${s}` : ''}`;
}

/** The params of the current page with `change` applied (null or '' removes a key). */
export function withParams(current: URLSearchParams, change: ParamValues): URLSearchParams {
  const next = new URLSearchParams(current);
  for (const [k, v] of Object.entries(change)) {
    if (v === undefined || v === null || v === '') next.delete(k);
    else next.set(k, String(v));
  }
  return next;
}

export function currentLocation(): Location {
  return parseHash(location.hash);
}

/** Changes the current page's query (a new history entry, so Back undoes a filter). */
export function setParams(change: ParamValues): void {
  const here = currentLocation();
  location.hash = hrefTo(here.path, withParams(here.params, change)).slice(1);
}

export function useLocation(): Location {
  const [loc, setLoc] = useState(currentLocation);
  useEffect(() => {
    const onHash = () => setLoc(currentLocation());
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);
  return loc;
}
