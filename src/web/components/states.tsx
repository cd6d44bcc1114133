import type { ComponentChildren } from 'preact';

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

/** The usual trio around a loaded value: error first, then loading without data, then the content. */
export function Loaded<T>(props: {
  what: string;
  data: T | null;
  error: string | null;
  loading: boolean;
  reload?: () => void;
  children: (data: T) => ComponentChildren;
}) {
  if (props.error && props.data === null) return <ErrorState message={props.error} retry={props.reload} />;
  if (props.data === null) return <Loading what={props.what} />;
  return (
    <>
      {props.error && <ErrorState message={props.error} retry={props.reload} />}
      {props.children(props.data)}
    </>
  );
}
