/**
 * Preloaded into every test file's process by `npm test` (scripts/test.ts, `--import`). Once all
 * of a file's tests have finished, the process has LINGER_MS to end by itself; if something keeps
 * it alive (a Kafka client, a server, a timer a test did not close), it names the open resources
 * on stderr and exits 1, so the file fails loudly instead of hanging the run. This replaces
 * --test-force-exit, which exits at once and can lose the file's last verdicts (nodejs/node#64833).
 *
 * Only a test file run by the test runner is watched (NODE_TEST_CONTEXT=child-v8 and a
 * *.test.* main module): processes a test spawns are left alone.
 */
const LINGER_MS = Number(process.env.SOCSTREAM_TEST_LINGER_MS ?? 60_000);

if (process.env.NODE_TEST_CONTEXT === 'child-v8' && /\.test\.[cm]?[jt]sx?$/.test(process.argv[1] ?? '')) {
  const { after } = await import('node:test');
  after(() => {
    setTimeout(() => {
      const open = process.getActiveResourcesInfo();
      process.stderr.write(
        `\n*** test: ${process.argv[1]} finished its tests ${LINGER_MS / 1000} s ago but is still running ` +
          `(open: ${open.join(', ') || 'nothing visible'}); a test left a client, server or timer open: ` +
          `close it in an after/afterEach hook. Exiting 1. ***\n`,
      );
      process.exit(1);
    }, LINGER_MS).unref();
  });
}
