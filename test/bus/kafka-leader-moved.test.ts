/**
 * leaderMoved decides whether a consumer stream failure is a leader change (the member reopens its
 * stream) or the role's failure. The shapes are @platformatic/kafka 2.12.1's, as a store role
 * logged them when a SIGKILLed cluster node came back as a follower (issue 18).
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { leaderMoved } from '../../src/bus/kafka-subscription.ts';

const protocolError = (apiId: string, hasStaleMetadata: boolean) => ({
  apiId,
  code: 'PLT_KFK_PROTOCOL',
  canRetry: hasStaleMetadata,
  hasStaleMetadata,
});

it('a fetch answered with OFFSET_OUT_OF_RANGE and FENCED_LEADER_EPOCH is a leader change', () => {
  const error = Object.assign(new Error('Received response with error while executing API Fetch(v17)'), {
    code: 'PLT_KFK_RESPONSE',
    errors: [
      protocolError('OFFSET_OUT_OF_RANGE', false),
      protocolError('FENCED_LEADER_EPOCH', true),
      protocolError('OFFSET_OUT_OF_RANGE', false),
    ],
  });
  assert.equal(leaderMoved(error), true);
  assert.equal(leaderMoved(protocolError('NOT_LEADER_OR_FOLLOWER', true)), true);
});

it('anything else in the response, or a plain error, is not', () => {
  const error = Object.assign(new Error('Fetch'), {
    errors: [protocolError('FENCED_LEADER_EPOCH', true), protocolError('TOPIC_AUTHORIZATION_FAILED', false)],
  });
  assert.equal(leaderMoved(error), false);
  assert.equal(leaderMoved(new Error('Kafka consumer stream ended unexpectedly')), false);
  assert.equal(leaderMoved(protocolError('UNKNOWN_MEMBER_ID', false)), false);
});
