import ipaddr from 'ipaddr.js';

/**
 * A minimal MaxMind DB writer for tests (https://maxmind.github.io/MaxMind-DB/): an IPv6 search
 * tree with 24-bit records, the data section and the metadata. IPv4 networks are stored under
 * ::/96 (the "IPv4 in an IPv6 tree" layout readers expect). Values: strings, booleans, doubles
 * (non-integer numbers), uint32 (non-negative integers), arrays and maps; no pointers or dedup.
 * Enough to build a small City/ASN database in a test; npm has no writer we depend on.
 */
export interface MmdbRecord {
  network: string;
  data: Record<string, unknown>;
}

const TYPE = {
  pointer: 1,
  string: 2,
  double: 3,
  bytes: 4,
  uint16: 5,
  uint32: 6,
  map: 7,
  uint64: 9,
  array: 11,
  boolean: 14,
};

function controlBytes(type: number, size: number): Buffer {
  const extended = type > 7;
  const head: number[] = [];
  let sizeBits: number;
  const tail: number[] = [];
  if (size < 29) sizeBits = size;
  else if (size < 29 + 256) {
    sizeBits = 29;
    tail.push(size - 29);
  } else if (size < 285 + 65_536) {
    sizeBits = 30;
    const s = size - 285;
    tail.push(s >> 8, s & 0xff);
  } else {
    sizeBits = 31;
    const s = size - 65_821;
    tail.push((s >> 16) & 0xff, (s >> 8) & 0xff, s & 0xff);
  }
  head.push(((extended ? 0 : type) << 5) | sizeBits);
  if (extended) head.push(type - 7);
  return Buffer.from([...head, ...tail]);
}

function uintBytes(n: number): Buffer {
  const out: number[] = [];
  let v = n;
  while (v > 0) {
    out.unshift(v & 0xff);
    v = Math.floor(v / 256);
  }
  return Buffer.from(out);
}

export function encodeValue(value: unknown): Buffer {
  if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8');
    return Buffer.concat([controlBytes(TYPE.string, bytes.length), bytes]);
  }
  if (typeof value === 'boolean') return controlBytes(TYPE.boolean, value ? 1 : 0);
  if (typeof value === 'number') {
    if (Number.isInteger(value) && value >= 0 && value < 2 ** 32) {
      const bytes = uintBytes(value);
      return Buffer.concat([controlBytes(TYPE.uint32, bytes.length), bytes]);
    }
    const bytes = Buffer.alloc(8);
    bytes.writeDoubleBE(value);
    return Buffer.concat([controlBytes(TYPE.double, 8), bytes]);
  }
  if (typeof value === 'bigint') {
    const bytes = uintBytes(Number(value));
    return Buffer.concat([controlBytes(TYPE.uint64, bytes.length), bytes]);
  }
  if (Array.isArray(value)) {
    return Buffer.concat([controlBytes(TYPE.array, value.length), ...value.map(encodeValue)]);
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value);
    const parts = entries.flatMap(([k, v]) => [encodeValue(k), encodeValue(v)]);
    return Buffer.concat([controlBytes(TYPE.map, entries.length), ...parts]);
  }
  throw new Error(`mmdb-writer: cannot encode ${String(value)}`);
}

interface TrieNode {
  children: [TrieNode | number | undefined, TrieNode | number | undefined];
  index?: number;
}

/** 128 bits of an address (IPv4 mapped into ::/96) as 0/1 numbers. */
function bitsOf(cidr: string): { bits: number[]; prefix: number } {
  const [addr, prefix] = ipaddr.parseCIDR(cidr);
  const bytes =
    addr.kind() === 'ipv4' ? [...new Array(12).fill(0), ...addr.toByteArray()] : addr.toByteArray();
  const bits = bytes.flatMap((b) => [7, 6, 5, 4, 3, 2, 1, 0].map((i) => (b >> i) & 1));
  return { bits, prefix: addr.kind() === 'ipv4' ? prefix + 96 : prefix };
}

export function writeMmdb(options: {
  databaseType: string;
  records: readonly MmdbRecord[];
  buildEpoch?: number;
}): Buffer {
  // Data section: each record's value once, remembering its offset.
  const dataParts: Buffer[] = [];
  let dataSize = 0;
  const root: TrieNode = { children: [undefined, undefined] };
  for (const record of options.records) {
    const offset = dataSize;
    const encoded = encodeValue(record.data);
    dataParts.push(encoded);
    dataSize += encoded.length;
    const { bits, prefix } = bitsOf(record.network);
    let node = root;
    for (let i = 0; i < prefix - 1; i++) {
      const next = node.children[bits[i]];
      if (typeof next === 'object') node = next;
      else {
        const created: TrieNode = { children: [next, next] };
        node.children[bits[i]] = created;
        node = created;
      }
    }
    node.children[bits[prefix - 1]] = offset;
  }
  // Number the nodes breadth-first; the root is node 0.
  const nodes: TrieNode[] = [];
  const queue: TrieNode[] = [root];
  while (queue.length > 0) {
    const node = queue.shift()!;
    node.index = nodes.length;
    nodes.push(node);
    for (const child of node.children) if (typeof child === 'object') queue.push(child);
  }
  const nodeCount = nodes.length;
  const tree = Buffer.alloc(nodeCount * 6);
  nodes.forEach((node, i) => {
    node.children.forEach((child, side) => {
      // Record values: < nodeCount a node, == nodeCount no data, > nodeCount data at (value - nodeCount - 16).
      const value =
        child === undefined
          ? nodeCount
          : typeof child === 'number'
            ? nodeCount + 16 + child
            : (child.index as number);
      tree.writeUIntBE(value, i * 6 + side * 3, 3);
    });
  });
  const metadata = encodeValue({
    node_count: nodeCount,
    record_size: 24,
    ip_version: 6,
    database_type: options.databaseType,
    languages: ['en'],
    binary_format_major_version: 2,
    binary_format_minor_version: 0,
    build_epoch: options.buildEpoch ?? 1_700_000_000,
    description: { en: 'socstream test database' },
  });
  return Buffer.concat([
    tree,
    Buffer.alloc(16),
    ...dataParts,
    Buffer.from([0xab, 0xcd, 0xef]),
    Buffer.from('MaxMind.com', 'ascii'),
    metadata,
  ]);
}
