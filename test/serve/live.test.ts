import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLiveFeed } from '../../src/serve/live.ts';
import { manyEnvelopes } from '../lake/envelopes.ts';
import { alertFor } from './helpers.ts';

const events = manyEnvelopes('dns', 100, Date.parse('2026-01-01T00:00:00Z'), 100, 'live');

test('events are sampled to eventsPerSecond, spread over the batch, and the budget renews each second', () => {
  let now = 0;
  const feed = createLiveFeed({ eventsPerSecond: 10, now: () => now });
  feed.publishEvents(events);
  const first = feed.since(0);
  assert.equal(first.length, 10);
  const ids = first.map((i) => (i.kind === 'event' ? i.data.id : ''));
  assert.equal(ids[0], events[0].id);
  assert.equal(ids[1], events[10].id, 'every tenth event, not the batch head');
  feed.publishEvents(events);
  assert.equal(feed.since(0).length, 10, 'no budget left this second');
  now = 1000;
  feed.publishEvents(events.slice(0, 3));
  assert.equal(feed.since(0).length, 13);
});

test('alerts are never sampled; the ring keeps the newest capacity items; since() resumes after a seq', () => {
  const feed = createLiveFeed({ capacity: 5 });
  for (let i = 0; i < 8; i++) feed.publishAlert(alertFor(events.slice(0, 2), { id: `a${i}` }));
  assert.equal(feed.lastSeq(), 8);
  assert.deepEqual(
    feed.since(0).map((i) => i.seq),
    [4, 5, 6, 7, 8],
  );
  assert.deepEqual(
    feed.since(6).map((i) => (i.kind === 'alert' ? i.data.id : '')),
    ['a6', 'a7'],
  );
});

test('subscribers get each item once until they unsubscribe', () => {
  const feed = createLiveFeed();
  const got: number[] = [];
  const stop = feed.subscribe((i) => got.push(i.seq));
  feed.publishAlert(alertFor(events.slice(0, 1)));
  stop();
  feed.publishAlert(alertFor(events.slice(0, 1)));
  assert.deepEqual(got, [1]);
});

test('an event in the tail carries its summary fields, not the raw record', () => {
  const feed = createLiveFeed();
  feed.publishEvents(events.slice(0, 1));
  const [item] = feed.since(0);
  assert.equal(item.kind, 'event');
  if (item.kind !== 'event') return;
  assert.equal(item.data.log_type, 'dns');
  assert.equal(item.data.summary, events[0].normalized.dns_query);
  assert.equal('raw' in item.data, false);
});
