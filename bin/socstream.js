#!/usr/bin/env node
// Runs the compiled CLI when `npm run build` completed (dist/build-complete.json), else the
// TypeScript sources directly; see bin/entry.js.
import { arenaLimitedExec, cliEntry } from './entry.js';

// glibc gives each thread that allocates its own malloc arena (up to 8 per core), and DuckDB's,
// libuv's and V8's threads each keep theirs: ~100 MB of a one-process Kafka deployment's peak
// RSS. MALLOC_ARENA_MAX is read when the process starts, so the launcher replaces itself
// (same pid, same stdio) with MALLOC_ARENA_MAX=2 unless it is set already (docs/benchmarks.md).
arenaLimitedExec(process);
const { main } = await import(cliEntry(new URL('../', import.meta.url)).href);
await main(process.argv);
