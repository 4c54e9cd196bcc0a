/**
 * The layers of src/, checked by `npm run layers` (part of `npm test`); docs/architecture.md
 * explains them.
 *
 * Why dependency-cruiser and not TypeScript project references: references can only say
 * which of our folders a folder sees. They cannot keep node-pty, blessed or
 * node:child_process out of the line discipline while it still compiles against Node's
 * types, and they would need a tsconfig and an output folder per component (bin/ and
 * tty/stty load the single dist/ tree). dependency-cruiser reads the import graph itself,
 * type-only imports included, and checks the whole policy from this one file, naming the
 * rule and the offending import when it fails.
 */

/**
 * Each folder of src/ and the folders it may import, lowest first. A folder may only
 * list folders above it in this table, so folders cannot form a cycle.
 */
const LAYERS = [
  ['base', []],
  ['termios', []],
  ['screen', ['base']],
  ['ldisc', ['termios', 'base']],
  ['image', ['termios', 'base']],
  ['freezer', ['base']],
  ['thawer', ['image', 'base']],
  ['host', ['ldisc', 'termios', 'screen', 'freezer', 'thawer', 'base']],
  ['recorder', ['host', 'screen', 'termios', 'base']],
  ['shell', ['host', 'recorder', 'freezer', 'termios', 'base']],
  ['terminal', ['host', 'recorder', 'screen', 'image', 'freezer', 'termios', 'base']],
  // cli loads each component's command.ts (see the cli-only-registers rule).
  ['cli', ['base']],
];

const FOLDERS = LAYERS.map(([folder]) => folder);
LAYERS.forEach(([folder, allowed], index) => {
  for (const lower of allowed) {
    const at = FOLDERS.indexOf(lower);
    if (at < 0 || at >= index) throw new Error(`.dependency-cruiser.cjs: ${folder} may only import folders listed above it, not ${lower}`);
  }
});

/**
 * The pure cores: the termios model, the line discipline, and the image format, reader and
 * descriptions (not image/file.ts, which opens files, nor info.ts, the command). They import only each other
 * and base's pure modules: no Node I/O, no node-pty, blessed, child_process or CLI.
 */
const PURE =
  '^src/(termios/|ldisc/(?!command\\.ts$)|image/(format|reader|read-core|read-job|read-process|struct-view|linux|errors|image|describe|info-text|info-json)\\.ts$|base/(errors|format)\\.ts$)';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    ...LAYERS.filter(([folder]) => folder !== 'cli').map(([folder, allowed]) => ({
      name: `layer-${folder}`,
      severity: 'error',
      comment: `src/${folder} may import only ${allowed.length ? allowed.map((f) => `src/${f}`).join(', ') : 'its own modules'} (the layer table in .dependency-cruiser.cjs)`,
      from: { path: `^src/${folder}/` },
      to: { path: '^src/', pathNot: `^src/(${[folder, ...allowed].join('|')})/` },
    })),
    {
      name: 'cli-only-registers',
      severity: 'error',
      comment: "src/cli is the entry point: it imports each component's command.ts and base, nothing else of ours",
      from: { path: '^src/cli/' },
      to: { path: '^src/', pathNot: '^src/(cli/|base/|[^/]+/command\\.ts$)' },
    },
    {
      name: 'folder-in-layer-table',
      severity: 'error',
      comment: 'every folder of src/ has a row in the layer table',
      from: { path: `^src/(?!(${FOLDERS.join('|')})/)` },
      to: {},
    },
    {
      name: 'pure-core',
      severity: 'error',
      comment: 'the termios model, the line discipline and the image reader import only pure modules: no I/O, processes, UI or CLI',
      from: { path: PURE },
      to: { pathNot: PURE },
    },
    {
      name: 'node-pty-only-in-host-pty',
      severity: 'error',
      comment: 'src/host/pty.ts is the one place that touches node-pty',
      from: { pathNot: '^src/host/pty\\.ts$' },
      to: { path: '^node_modules/node-pty/' },
    },
    {
      name: 'blessed-only-in-terminal',
      severity: 'error',
      comment: 'only the full-screen terminal draws with blessed',
      from: { pathNot: '^src/terminal/' },
      to: { path: '^node_modules/blessed/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'modules import each other in one direction',
      from: {},
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'every import resolves (a misspelt path would otherwise slip past the rules above)',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports are dependencies too: a core that names blessed's types knows blessed.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
