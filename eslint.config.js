// Lint: eslint's recommended rules plus typescript-eslint's, over src, test and bench.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
	{ignores: ['dist/', 'node_modules/', 'build/']},
	js.configs.recommended,
	...tseslint.configs.recommended,
	{
		rules: {
			'@typescript-eslint/consistent-type-imports': 'error',
			'@typescript-eslint/no-unused-vars': ['error', {argsIgnorePattern: '^_', varsIgnorePattern: '^_'}],
			'no-constant-condition': ['error', {checkLoops: false}],
		},
	},
	{
		// The live view's page script runs in the browser, as a classic script.
		files: ['src/ui/static/**/*.js'],
		languageOptions: {sourceType: 'script', globals: {window: 'readonly', document: 'readonly', fetch: 'readonly', EventSource: 'readonly', Option: 'readonly', CSS: 'readonly', cytoscape: 'readonly'}},
	},
);
