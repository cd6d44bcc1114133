/**
 * The import rules of socstream's layout, checked by `npm run lint` (depcruise src).
 *
 * FLOORS (STYLE.md "Floors"): an import goes down or stays on its floor, never up.
 *   1. core/                          envelope, ids, errors, component model, registry, logger, shutdown:
 *                                     imports nothing else of src/
 *   2. bus/ metrics/                  the message bus (with its config sections), telemetry
 *   3. the stages: sources/ parsers/ normalize/ enrich/ detect/ sinks/ lake/ generate/
 *   4. pipeline/ roles/ serve/        the assembly of the data path, the roles it runs, the HTTP
 *      components.ts config/          API the serve role runs (serve/ imports no role), the component
 *                                     registry, and socstream.yaml's schema assembled from it (with
 *                                     the loader that validates against it)
 *   5. cli/ web/                      the faces: command line, dashboard
 * Besides: no import circle anywhere; no role imports another role; parsing knows no rules
 * (parsers/ never import detect/); serve/ never imports cli/; nothing imports web/ (a browser bundle).
 */

/** Folders (or top-level files) of src/, lowest floor first. */
const FLOORS = [
  ['core'],
  ['bus', 'metrics'],
  ['sources', 'parsers', 'normalize', 'enrich', 'detect', 'sinks', 'lake', 'generate'],
  ['pipeline', 'roles', 'serve', 'components\\.ts', 'config'],
  ['cli', 'web'],
];

/**
 * Exceptions to the rules, each with the file, the import it may make and why. None today: the
 * move of the data path's assembly into src/pipeline/ (issue 14) removed the last ones. Keep the
 * list short and named if one is ever needed.
 */
const KNOWN_VIOLATIONS_UNTIL_PIPELINE_MOVE = [];

/** The roles of a deployment (ARCHITECTURE.md); other files in src/roles/ are helpers they share. */
const ROLES = ['ingest', 'process', 'correlate', 'store', 'serve'];

const dir = (name) => (name.endsWith('\\.ts') ? `^src/${name}$` : `^src/${name}/`);
const anyOf = (names) => `(${names.map(dir).join('|')})`;

const exempt = KNOWN_VIOLATIONS_UNTIL_PIPELINE_MOVE.map((v) => `^${v.file.replaceAll('.', '\\.')}$`);

/** One rule per floor: nothing on it imports a floor above. */
const floorRules = FLOORS.slice(0, -1).map((floor, i) => {
  const above = FLOORS.slice(i + 1).flat();
  return {
    name: `floor-${i + 1}-imports-no-floor-above`,
    comment: `${floor.join(', ')} may import only floors 1..${i + 1}, never ${above.join(', ')}`,
    severity: 'error',
    from: { path: anyOf(floor), pathNot: exempt },
    to: { path: anyOf(above) },
  };
});

/** An excepted file may make its named imports, and no other upward or role-to-role import. */
const exceptionRules = KNOWN_VIOLATIONS_UNTIL_PIPELINE_MOVE.map((v, i) => ({
  name: 'known-violation-until-pipeline-move',
  comment: `${v.file}: only ${v.mayImport} is excepted (${v.why})`,
  severity: 'error',
  from: { path: exempt[i] },
  to: {
    path: `(${anyOf(FLOORS.slice(v.floor).flat())}|^src/roles/(${ROLES.join('|')})\\.ts$)`,
    pathNot: `(${exempt[i]}|${v.mayImport})`,
  },
}));

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'No import circle, of any length, values or types: a circle is one module in several files.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'core-is-the-ground-floor',
      comment:
        'src/core/ imports nothing of src/ outside src/core/ (npm packages and node: builtins are fine).',
      severity: 'error',
      from: { path: '^src/core/', pathNot: exempt },
      to: { path: '^src/', pathNot: '^src/core/' },
    },
    ...floorRules,
    ...exceptionRules,
    {
      name: 'no-role-imports-another-role',
      comment: 'A role holds behaviour; what two roles share lives below them (src/pipeline/ or a stage).',
      severity: 'error',
      from: { path: `^src/roles/(${ROLES.join('|')})\\.ts$`, pathNot: exempt },
      to: { path: `^src/roles/(${ROLES.join('|')})\\.ts$`, pathNot: '^src/roles/$1\\.ts$' },
    },
    {
      name: 'parsing-knows-no-rules',
      comment: 'Parsers turn bytes into fields; detection is a later stage.',
      severity: 'error',
      from: { path: '^src/parsers/' },
      to: { path: '^src/detect/' },
    },
    {
      name: 'serve-does-not-import-cli',
      comment: 'The HTTP API is a component the CLI starts, not the other way round.',
      severity: 'error',
      from: { path: '^src/serve/' },
      to: { path: '^src/cli/' },
    },
    {
      name: 'nothing-imports-web',
      comment: 'src/web/ is the dashboard, bundled for the browser by scripts/build-web.ts.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/web/' },
      to: { path: '^src/web/' },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'An import that resolves to nothing is a typo or a missing dependency.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports count: a circle through types is still one module spread over files.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    // src/web is JSX for the browser (preact); its CSS import is the bundler's business.
    exclude: { path: '\\.css$' },
  },
};
