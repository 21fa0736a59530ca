import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import regexp from 'eslint-plugin-regexp';

/**
 * The layers of src/, lowest first; a folder may import only from the layers below it (and
 * from itself). The shared kernel (domain/, errors.ts, ids.ts, config.ts, version.ts) is below
 * everything. See docs/adr/0006-runtime-seams.md.
 */
const LAYERS = [
  {
    files: 'src/domain',
    above: ['outbound', 'storage', 'models', 'tools', 'runtime', 'http', 'features', 'app', 'cli'],
  },
  // security/ (the server's root secret and the keys derived from it) is as low as the kernel.
  {
    files: 'src/security',
    above: ['outbound', 'storage', 'models', 'tools', 'runtime', 'http', 'features', 'app', 'cli'],
  },
  // outbound/ (the one guarded HTTP client, ADR 0013) is just above the kernel: anything may call out through it.
  { files: 'src/outbound', above: ['storage', 'models', 'tools', 'runtime', 'http', 'features', 'app', 'cli'] },
  { files: 'src/storage', above: ['models', 'tools', 'runtime', 'http', 'features', 'app', 'cli'] },
  { files: 'src/models', above: ['storage', 'tools', 'runtime', 'http', 'features', 'app', 'cli'] },
  { files: 'src/tools', above: ['storage', 'runtime', 'http', 'features', 'app', 'cli'] },
  { files: 'src/runtime', above: ['http', 'features', 'app', 'cli'] },
  // http/ is the edge every feature plugs into (auth, SSE, errors): it may not depend on a feature.
  { files: 'src/http', above: ['features', 'app', 'cli'] },
  { files: 'src/features', above: ['app', 'cli'] },
];

/**
 * Every regex in the server may meet user or model text, so each must run in linear time: the
 * plugin's recommended rules (as errors) and the two ReDoS checks — backtracking that grows with
 * the input (no-super-linear-backtracking) and a pattern retried at every position of a failed
 * search (no-super-linear-move, which the recommended set leaves off). See ADR 0007
 * (docs/adr/0007-linear-text-work.md).
 */
const REGEXP_RULES = {
  ...Object.fromEntries(
    Object.entries(regexp.configs['flat/recommended'].rules).map(([rule, level]) => [
      rule,
      level === 'warn' ? 'error' : level,
    ]),
  ),
  'regexp/no-super-linear-backtracking': ['error', { report: 'potential' }],
  'regexp/no-super-linear-move': ['error', { report: 'potential', ignorePartial: false }],
};

function layerRules() {
  return LAYERS.map(({ files, above }) => ({
    files: [`${files}/**/*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: above.map((layer) => ({
            group: layer === 'app' ? ['**/app.js'] : [`**/${layer}/**`],
            message: `${files}/ is below ${layer === 'app' ? 'src/app.ts' : `src/${layer}/`} and may not import from it.`,
          })),
        },
      ],
    },
  }));
}

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'data/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', ignoreRestSiblings: true }],
      '@typescript-eslint/consistent-type-imports': 'error',
      // Security by construction: nothing in the server evaluates text as code.
      'no-eval': 'error',
      'no-implied-eval': 'error',
      'no-new-func': 'error',
    },
  },
  ...layerRules(),
  {
    // Small files and functions (design/style.md): a file past 300 lines or a function past 60 is
    // split. Migrations are schema declarations read top to bottom, and stay whole.
    files: ['src/**/*.ts'],
    ignores: ['src/storage/kysely/migrations/**'],
    rules: {
      'max-lines': ['error', { max: 300, skipBlankLines: true, skipComments: true }],
      'max-lines-per-function': ['error', { max: 60, skipBlankLines: true, skipComments: true }],
    },
  },
  {
    files: ['src/**/*.ts'],
    plugins: { regexp },
    rules: REGEXP_RULES,
  },
  {
    // No import cycles anywhere in the server (a cycle is a layer that has not been found yet).
    files: ['src/**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      // The files an import leads to are parsed to follow their own imports.
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/extensions': ['.ts', '.js'],
      'import-x/resolver-next': [createNodeResolver({ extensionAlias: { '.js': ['.ts', '.js'] } })],
    },
    rules: { 'import-x/no-cycle': ['error', { ignoreExternal: true }] },
  },
  {
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // Client snippets embedded in the docs: plain ESM using what Node 20 and browsers both have.
    files: ['docs/examples/**/*.mjs'],
    languageOptions: {
      globals: { crypto: 'readonly', fetch: 'readonly', console: 'readonly', URL: 'readonly', TextDecoder: 'readonly' },
    },
  },
  {
    files: ['bench/**/*.js', 'scripts/**/*.js', 'test/mcp-conformance/**/*.js'],
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        URL: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        Buffer: 'readonly',
        fetch: 'readonly',
        TextDecoder: 'readonly',
        AbortController: 'readonly',
        AbortSignal: 'readonly',
      },
    },
  },
  {
    // The docs' client examples run in Node 20 and in browsers: the globals both have.
    files: ['docs/examples/**/*.{js,mjs}'],
    languageOptions: {
      globals: {
        console: 'readonly',
        URL: 'readonly',
        fetch: 'readonly',
        Headers: 'readonly',
        TextDecoder: 'readonly',
        AbortController: 'readonly',
        AbortSignal: 'readonly',
        EventSource: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
      },
    },
  },
);
