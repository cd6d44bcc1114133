/** Types of bin/entry.js (plain JavaScript, so bin/ runs without a build). */
export declare const BUILD_MARKER: string;
export declare function cliEntry(root: URL): URL;
export declare const MALLOC_ARENAS: string;
export declare function arenaLimitedExec(proc: NodeJS.Process): void;
