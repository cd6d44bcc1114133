/**
 * What the bench/ab scripts share: the two source trees (SOCSTREAM_AB_BASE, a worktree of the base
 * commit with node_modules, and this one) and, for each, the API app over one lake (the tree's own
 * bench/api-app.ts, lake access and an in-memory alert store), so both sides answer in one process
 * under the same load.
 */
const BASE = process.env.SOCSTREAM_AB_BASE;
if (!BASE)
  throw new Error('set SOCSTREAM_AB_BASE to a worktree of the base commit (git worktree add … <commit>)');

export const trees = {
  base: BASE,
  new: new URL('../..', import.meta.url).pathname.replace(/\/$/, ''),
} as const;
export type Side = keyof typeof trees;

/** One tree's API app over `lakeDir`; `withRules` gives it the tree's rule pack (the alert page's rule). */
export async function appOf(tree: string, lakeDir: string, withRules = false) {
  const { benchApi } = await import(`${tree}/bench/api-app.ts`);
  const { openLakeAccess } = await import(`${tree}/src/serve/lake-access.ts`);
  const { SqliteAlertStore } = await import(`${tree}/src/sinks/alert-store-sqlite.ts`);
  const store = new SqliteAlertStore({ path: ':memory:' });
  await store.start();
  const lake = await openLakeAccess(lakeDir);
  const { app, headers } = await benchApi({
    alerts: store,
    lake,
    ...(withRules ? { rulePaths: [`${tree}/rules`] } : {}),
  });
  return {
    app,
    headers,
    store,
    close: async () => {
      await app.close();
      lake.close();
      await store.close();
    },
  };
}

/** Both sides' apps over `lakeDir`. */
export async function bothApps(lakeDir: string, withRules = false) {
  return {
    base: await appOf(trees.base, lakeDir, withRules),
    new: await appOf(trees.new, lakeDir, withRules),
  };
}
