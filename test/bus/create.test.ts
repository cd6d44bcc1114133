import assert from 'node:assert/strict';
import { it } from 'node:test';
import { createBus } from '../../src/bus/create.ts';
import { busSchema } from '../../src/config/schema.ts';

it('creates the bus bus.type names, configured from its section, without connecting', async () => {
  const memory = createBus(busSchema.parse({ type: 'memory', memory: { assignment: 'round_robin' } }));
  assert.equal(memory.kind, 'memory');
  await memory.createTopics([{ name: 't', partitions: 4 }]);
  const a = await memory.subscribe({ group: 'g', topics: ['t'] });
  await memory.subscribe({ group: 'g', topics: ['t'] });
  assert.deepEqual(
    a.assignments().map((x) => x.partition),
    [0, 2],
  );
  await memory.close();

  // Nothing listens on port 1: a connecting constructor would fail or hang here.
  const kafka = createBus(busSchema.parse({ type: 'kafka', kafka: { brokers: ['127.0.0.1:1'] } }));
  assert.equal(kafka.kind, 'kafka');
  await kafka.close();
});
