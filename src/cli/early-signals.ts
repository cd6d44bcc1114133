/**
 * Stop signals that arrive while `socstream run` is still starting — loading its modules (a
 * second or more), its config, joining its groups, rebuilding windows — would kill the process by
 * Node's default (exit by signal, no drain). They are held instead: the first is remembered and
 * handed to the command once its graceful shutdown is installed; a second one forces the exit at
 * once (128 + signal number), as a second signal does during a shutdown. main.ts holds them
 * before it loads the commands; run.ts releases them.
 */
const STOP_SIGNALS = ['SIGTERM', 'SIGINT'] as const;
const SIGNAL_NUMBER: Record<(typeof STOP_SIGNALS)[number], number> = { SIGINT: 2, SIGTERM: 15 };

let held = false;
let first: NodeJS.Signals | null = null;

function remember(signal: NodeJS.Signals): void {
  if (first) process.exit(128 + (SIGNAL_NUMBER[signal as keyof typeof SIGNAL_NUMBER] ?? 0));
  first = signal;
}

/** Starts holding SIGTERM/SIGINT (idempotent). */
export function holdStopSignals(): void {
  if (held) return;
  held = true;
  for (const s of STOP_SIGNALS) process.on(s, remember);
}

/** Stops holding them; returns the signal that came meanwhile, if any. */
export function releaseStopSignals(): NodeJS.Signals | null {
  if (held) for (const s of STOP_SIGNALS) process.off(s, remember);
  held = false;
  const signal = first;
  first = null;
  return signal;
}
