/**
 * Kafka's default key partitioner: `toPositive(murmur2(keyBytes)) % partitions`
 * (clients/.../common/utils/Utils.java murmur2 and BuiltInPartitioner.partitionForKey), so a key
 * lands on the same partition number on the memory bus, through our Kafka producer, and from any
 * Java client. @platformatic/kafka's own default uses `>>> 0` instead of Java's `& 0x7fffffff`,
 * which picks different partitions for half the keys; the Kafka bus passes this one instead.
 */
const SEED = 0x9747b28c;
const M = 0x5bd1e995;

const utf8 = new TextEncoder();

/** Kafka's murmur2 (32-bit, signed result as Java returns it). */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  let h = SEED ^ length;
  const whole = length & ~3;
  for (let i = 0; i < whole; i += 4) {
    let k = data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M);
    h ^= k;
  }
  // Java's switch falls through: 3 → 2 → 1, then one multiply.
  const rest = length & 3;
  if (rest === 3) h ^= data[whole + 2] << 16;
  if (rest >= 2) h ^= data[whole + 1] << 8;
  if (rest >= 1) {
    h ^= data[whole];
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/** The positive hash Kafka takes the modulo of (`Utils.toPositive`). */
export function positiveMurmur2(data: Uint8Array): number {
  return murmur2(data) & 0x7fffffff;
}

export function keyBytes(key: string): Uint8Array {
  return utf8.encode(key);
}

/** The partition Kafka's Java producer picks for a non-null key. */
export function partitionForKey(key: string | Uint8Array, partitions: number): number {
  return positiveMurmur2(typeof key === 'string' ? utf8.encode(key) : key) % partitions;
}
