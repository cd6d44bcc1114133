import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createPoller, type PollState } from '../../src/web/poller.ts';

/** A load whose answers the test releases one by one, counting how many run at once. */
function gatedLoad<T>() {
  const waiting: Array<{ ok(v: T): void; fail(e: Error): void }> = [];
  let running = 0;
  let maxRunning = 0;
  let calls = 0;
  return {
    load: (_signal: AbortSignal) =>
      new Promise<T>((ok, fail) => {
        calls++;
        running++;
        maxRunning = Math.max(maxRunning, running);
        waiting.push({
          ok: (v) => {
            running--;
            ok(v);
          },
          fail: (e) => {
            running--;
            fail(e);
          },
        });
      }),
    answer: (v: T) => waiting.shift()?.ok(v),
    failNext: (e: Error) => waiting.shift()?.fail(e),
    get calls() {
      return calls;
    },
    get maxRunning() {
      return maxRunning;
    },
  };
}

test('a request slower than the refresh interval is waited for, never stacked or thrown away', async () => {
  const gate = gatedLoad<number>();
  const states: PollState<number>[] = [];
  const poller = createPoller({ load: gate.load, refreshMs: 10, onChange: (s) => states.push(s) });
  poller.start();
  await sleep(80); // eight refresh intervals pass while the first request runs
  assert.equal(gate.calls, 1, 'no second request while the first runs');
  gate.answer(42);
  await sleep(1);
  assert.equal(states.at(-1)?.data, 42, 'the slow answer is shown');
  await sleep(40);
  assert.equal(gate.calls, 2, 'the next refresh starts after the answer');
  assert.equal(gate.maxRunning, 1);
  poller.stop();
});

test('a late refresh marks the shown data stale; the answer clears it', async () => {
  const gate = gatedLoad<string>();
  let state: PollState<string> | undefined;
  const poller = createPoller({
    load: gate.load,
    refreshMs: 5,
    lateAfterMs: 20,
    onChange: (s) => {
      state = s;
    },
  });
  poller.start();
  gate.answer('first');
  await sleep(15); // the refresh has started and hangs
  assert.equal(state?.stale, false);
  await sleep(40);
  assert.deepEqual([state?.data, state?.stale, state?.loading], ['first', true, true]);
  gate.answer('second');
  await sleep(1);
  assert.deepEqual([state?.data, state?.stale], ['second', false]);
  poller.stop();
});

test('a failed refresh keeps the last data, marked stale, with the error', async () => {
  const gate = gatedLoad<string>();
  let state: PollState<string> | undefined;
  const poller = createPoller({
    load: gate.load,
    refreshMs: 5,
    onChange: (s) => {
      state = s;
    },
  });
  poller.start();
  gate.answer('good');
  await sleep(20);
  gate.failNext(new Error('the server cannot be reached'));
  await sleep(1);
  assert.deepEqual([state?.data, state?.stale, state?.error], ['good', true, 'the server cannot be reached']);
  poller.stop();
});

test('data of a previous query is shown, stale, until the new query answers', async () => {
  const gate = gatedLoad<string>();
  let state: PollState<string> | undefined;
  const poller = createPoller({
    load: gate.load,
    initial: 'old range',
    initialUpdatedAt: 1234,
    onChange: (s) => {
      state = s;
    },
  });
  poller.start();
  assert.deepEqual([state?.data, state?.stale, state?.updatedAt], ['old range', true, 1234]);
  gate.answer('new range');
  await sleep(1);
  assert.deepEqual([state?.data, state?.stale], ['new range', false]);
  poller.stop();
});

test('stop aborts the running request and no refresh follows', async () => {
  let signal: AbortSignal | undefined;
  let calls = 0;
  const poller = createPoller<number>({
    load: (s) => {
      calls++;
      signal = s;
      return new Promise(() => {});
    },
    refreshMs: 5,
    onChange: () => {},
  });
  poller.start();
  poller.stop();
  assert.equal(signal?.aborted, true);
  await sleep(30);
  assert.equal(calls, 1);
});
