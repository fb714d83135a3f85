import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', '.data/', 'coverage/', 'bench-results/', 'test-artifacts/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
  {
    // oidc-provider is reached only through Behalf's own seam (src/server/oidc/port.ts):
    // routes, interactions and modules depend on that interface, never on the library.
    files: ['src/**/*.ts'],
    ignores: ['src/server/oidc/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: 'oidc-provider',
              message: 'Use the OIDC port (src/server/oidc/port.ts); only src/server/oidc/ may import oidc-provider.',
            },
          ],
        },
      ],
    },
  },
);
