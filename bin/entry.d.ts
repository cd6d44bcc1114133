/** Types of bin/entry.js (plain JavaScript, so bin/ runs without a build). */
export declare const BUILD_MARKER: string;
export declare function cliEntry(root: URL): URL;
export declare const MALLOC_ARENAS: string;
export declare const V8_MEMORY_FLAGS: readonly string[];
export declare function missingMemoryFlags(execArgv: readonly string[], nodeOptions?: string): string[];
export declare function arenaLimitedExec(proc: NodeJS.Process): void;
