#!/usr/bin/env node
// Runs the compiled CLI when `npm run build` completed (dist/build-complete.json), else the
// TypeScript sources directly; see bin/entry.js.
import { cliEntry } from './entry.js';

const { main } = await import(cliEntry(new URL('../', import.meta.url)).href);
await main(process.argv);
