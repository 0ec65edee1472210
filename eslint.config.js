// Lint: eslint's recommended rules plus typescript-eslint's, over src, test,
// bench and lab; and the layers (docs/architecture.md): a folder of src/ may
// import its own layer and the layers below it, never one above; src/ imports
// nothing from test/, bench/ or lab/; bench/ and lab/ nothing from test/.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** The layers of src/, from the ground up. */
export const LAYERS = [
	['wire', 'util'],
	['route', 'anycast', 'io', 'config'],
	['pipeline'],
	['roles'],
	['assembly'],
	['ops'],
	['netns', 'cli', 'ui'],
];

/** An import path (static `import … from`, or dynamic `import()`) that leads into one of `folders` from anywhere below the repository root. */
const into = (folders, src = true) => `^(\\.\\./)+${src ? '(src/)?' : ''}(${folders.join('|')})/`;

/** no-restricted-imports and no-restricted-syntax (for import()) refusing `regex`, with `message`. */
function refuse(rules) {
	return {
		'no-restricted-imports': ['error', {patterns: rules.map(({regex, message}) => ({regex, message}))}],
		'no-restricted-syntax': ['error', ...rules.map(({regex, message}) => ({selector: `ImportExpression[source.value=/${regex.replaceAll('/', '\\/')}/]`, message}))],
	};
}

const outsideSrc = {regex: into(['test', 'bench', 'lab'], false), message: 'src/ imports nothing from test/, bench/ or lab/ (docs/architecture.md).'};

const layerRules = LAYERS.flatMap((layer, rank) => {
	const above = LAYERS.slice(rank + 1).flat();
	return layer.map((folder) => ({
		files: [`src/${folder}/**`],
		rules: refuse([
			...(above.length > 0
				? [{regex: into(above), message: `src/${folder} is layer ${rank} (${layer.join(', ')}): it may import only its own layer and those below it, not ${above.join(', ')} (docs/architecture.md).`}]
				: []),
			outsideSrc,
		]),
	}));
});

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
	...layerRules,
	{files: ['bench/**'], rules: refuse([{regex: into(['test'], false), message: 'bench/ imports nothing from test/: what tests and benchmarks share lives in lab/ (docs/architecture.md).'}])},
	{files: ['lab/**'], rules: refuse([{regex: into(['test', 'bench'], false), message: 'lab/ is shared by test/ and bench/ and imports neither (docs/architecture.md).'}])},
);
