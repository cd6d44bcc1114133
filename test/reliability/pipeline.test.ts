/**
 * The full form of the Kafka fault tests (issue 9), run by `npm run test:reliability`: on a
 * private broker, a 500,000-event generated stream survives 10 SIGKILLs of the process, correlate
 * and store roles, and a second stream survives a 30-second broker outage; afterwards every input
 * offset's id is in the lake and on the events topics, every ground-truth attack is alerted, and
 * the stored alerts equal an uninterrupted run's. Sizes: RELIABILITY_EVENTS, RELIABILITY_KILLS.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { kafkaSkipReason, PrivateBroker } from '../helpers/reliability.ts';
import { brokerRestartScenario, crashScenario, formatFigures } from '../helpers/reliability-scenarios.ts';

const SKIP = kafkaSkipReason('reliability full form (crashes, broker restart)');
if (SKIP) process.stderr.write(`\n*** ${SKIP} ***\n\n`);
const EVENTS = Number(process.env.RELIABILITY_EVENTS ?? 500_000);
const KILLS = Number(process.env.RELIABILITY_KILLS ?? 10);
const TIMEOUT_MS = 30 * 60_000;

describe('reliability, full form', { skip: SKIP }, () => {
  let broker: PrivateBroker;
  before(() => {
    broker = new PrivateBroker();
    broker.run('start');
  });
  after(() => broker?.dispose());

  test(`${KILLS} SIGKILLs of process/correlate/store during ${EVENTS} events: nothing lost, every attack alerted once`, {
    timeout: 2 * TIMEOUT_MS,
  }, async () => {
    const f = await crashScenario(broker, {
      events: EVENTS,
      kills: KILLS,
      timeoutMs: TIMEOUT_MS,
      strictAlerts: true,
    });
    process.stderr.write(formatFigures('reliability crash', f));
    assert.equal(f.kills.length, KILLS);
  });

  test(`a 30 s broker outage during ${EVENTS} events: the roles reconnect by themselves and lose nothing`, {
    timeout: 2 * TIMEOUT_MS,
  }, async () => {
    const f = await brokerRestartScenario(broker, {
      events: EVENTS,
      outageMs: 30_000,
      timeoutMs: TIMEOUT_MS,
      strictAlerts: true,
    });
    process.stderr.write(formatFigures('reliability broker restart', f));
    assert.equal(f.restarts, 1);
  });
});
