import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

// Workflow code runs in Temporal's deterministic sandbox: no Node built-ins and no I/O libraries.
const workflowForbiddenModules = [
  ...builtinModules,
  ...builtinModules.map((name) => `node:${name}`),
  'pg',
  'kysely',
  'sharp',
  'onnxruntime-node',
  'koa',
  'pino',
  '@temporalio/client',
  '@temporalio/worker',
  '@temporalio/activity',
];

export default tseslint.config(
  { ignores: ['node_modules/', '.data/', '.tools/', 'dist/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', name: ['describe', 'it', 'test', 'suite'], package: 'node:test' }] },
      ],
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': [
        'error',
        { selector: "MemberExpression[object.name='process'][property.name='env']", message: 'Read settings through config/ only.' },
      ],
    },
  },
  {
    files: ['config/**/*.ts', 'eslint.config.js', 'test/support/**/*.ts', 'bin/**/*.ts'],
    rules: { 'no-restricted-syntax': 'off' },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: workflowForbiddenModules.map((name) => ({ name, message: 'Workflows are deterministic: move I/O into an activity.' })),
          patterns: [
            { group: ['**/db/**', '**/activities/**', '**/api/**', '**/gpu-worker/**', '**/media/**', '**/config/**'], message: 'Workflows import only workflow-safe modules (domain/, workflows/, activity types).' , allowTypeImports: true },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'process', message: 'Not available in the workflow sandbox.' },
        { name: 'require', message: 'Not available in the workflow sandbox.' },
      ],
    },
  },
  {
    files: ['**/*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
);
