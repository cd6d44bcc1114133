/**
 * The short form of the reliability suite (issue 9), in `npm test`: on a private broker, a
 * 20,000-event generated stream survives 3 SIGKILLs of the roles and a 10-second broker outage
 * with nothing lost and every attack alerted exactly once. The full form (500,000 events, 10
 * kills, 30 s outage) is test/reliability/pipeline.test.ts; docs/reliability.md lists both.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { kafkaSkipReason, PrivateBroker } from '../helpers/reliability.ts';
import { brokerRestartScenario, crashScenario, formatFigures } from '../helpers/reliability-scenarios.ts';

const SKIP = kafkaSkipReason('reliability short form (crashes, broker restart)');
if (SKIP) process.stderr.write(`\n*** ${SKIP} ***\n\n`);
const EVENTS = Number(process.env.RELIABILITY_SHORT_EVENTS ?? 20_000);

describe('reliability, short form', { skip: SKIP }, () => {
  let broker: PrivateBroker;
  before(() => {
    broker = new PrivateBroker();
    broker.run('start');
  });
  after(() => broker?.dispose());

  test('3 SIGKILLs of process/correlate/store mid-stream: every id in the lake and on the events topics, every attack alerted once, with the alert ids of an uninterrupted run', async () => {
    const f = await crashScenario(broker, {
      events: EVENTS,
      kills: 3,
      timeoutMs: 240_000,
      strictAlerts: true,
    });
    process.stderr.write(formatFigures('reliability-short crash', f));
    assert.equal(f.kills.length, 3);
  });

  test('a 10 s broker outage mid-stream: the roles reconnect by themselves, lose nothing, and alert every attack once with the alert ids of an uninterrupted run', async () => {
    const f = await brokerRestartScenario(broker, {
      events: EVENTS,
      outageMs: 10_000,
      timeoutMs: 240_000,
      strictAlerts: true,
    });
    process.stderr.write(formatFigures('reliability-short broker restart', f));
    assert.equal(f.restarts, 1);
  });
});
