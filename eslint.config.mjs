import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', 'cdk.out/**', 'dist/**', '.local/**', 'bench/results/**', 'coverage/**', '**/*.js', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-console': 'off',
    },
  },
  {
    // The operator CLI (cli/) runs on an operator's machine: no Lambda function or shared module may bundle it.
    files: ['functions/**/*.ts', 'shared/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['**/cli', '**/cli/*'] }],
    },
  },
  {
    // shared/domain is pure: no AWS SDK, no network, no filesystem.
    files: ['shared/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['@aws-sdk/*', '@aws-lambda-powertools/*', 'node:http', 'node:https', 'node:fs', 'fs', 'http', 'https', '../sequence/*', '../sphere/*', '../store/*', '../secrets/*', '../runtime/*', '../webhooks/*', '**/cli', '**/cli/*'] }],
    },
  },
);
