/**
 * Test helper: reads Parquet with hyparquet, an independent reader (pure JS, no DuckDB), with
 * zstd decompression from node:zlib.
 */
import { readFile } from 'node:fs/promises';
import { zstdDecompressSync } from 'node:zlib';
import { parquetReadObjects } from 'hyparquet';

const compressors = {
  ZSTD: (input: Uint8Array) => new Uint8Array(zstdDecompressSync(input)),
};

export async function readParquetRows(path: string): Promise<Record<string, unknown>[]> {
  const buf = await readFile(path);
  const file = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
  return parquetReadObjects({ file, compressors });
}
