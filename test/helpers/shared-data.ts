import { existsSync } from 'node:fs';

/**
 * The shared real-data folder (../shared/data beside the repository, as CI lays it out), with the
 * developers' /work/shared/data as a fallback. Tests read real logs and rules from here.
 */
const beside = new URL('../../../shared/data', import.meta.url).pathname;
export const SHARED_DATA = existsSync(beside) ? beside : '/work/shared/data';
