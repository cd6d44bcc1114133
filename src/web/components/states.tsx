import type { ComponentChildren } from 'preact';
import { formatTime } from '../format.ts';

/** Loading, empty and error states, the same everywhere; role="status"/"alert" for screen readers. */
export function Loading({ what }: { what: string }) {
  return (
    <p class="state" role="status">
      Loading {what}…
    </p>
  );
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <p class="state empty">{children}</p>;
}

export function ErrorState({ message, retry }: { message: string; retry?: () => void }) {
  return (
    <div class="state error" role="alert">
      <span>{message}</span>
      {retry && (
        <button type="button" onClick={retry}>
          Retry
        </button>
      )}
    </div>
  );
}

/**
 * Data that is no longer current stays on screen with this marker: when it was loaded and why it is
 * old (the refresh failed, or is still running).
 */
export function StaleMarker({
  updatedAt,
  error,
  reload,
}: {
  updatedAt: number | null;
  error: string | null;
  reload?: () => void;
}) {
  return (
    <div class="state stale" role="status" data-testid="stale">
      <span>
        {updatedAt === null ? 'Earlier data' : `Data from ${formatTime(updatedAt)}`}
        {error ? ` — the refresh failed: ${error}` : ' — updating (the lake is slow to answer)…'}
      </span>
      {reload && error && (
        <button type="button" class="secondary" onClick={reload}>
          Retry
        </button>
      )}
    </div>
  );
}

/**
 * The usual trio around a loaded value: error without data, loading without data, else the content
 * — never blank once something was shown: older data stays with a stale marker.
 */
export function Loaded<T>(props: {
  what: string;
  data: T | null;
  error: string | null;
  loading: boolean;
  stale?: boolean;
  updatedAt?: number | null;
  reload?: () => void;
  children: (data: T) => ComponentChildren;
}) {
  if (props.error && props.data === null) return <ErrorState message={props.error} retry={props.reload} />;
  if (props.data === null) return <Loading what={props.what} />;
  return (
    <>
      {props.stale && (
        <StaleMarker updatedAt={props.updatedAt ?? null} error={props.error} reload={props.reload} />
      )}
      {props.children(props.data)}
    </>
  );
}
