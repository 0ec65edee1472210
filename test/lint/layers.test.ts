// The layer rule of eslint.config.js (docs/architecture.md): an import from a
// lower layer into a higher one, or from src/ or bench/ into test/, fails
// `npm run lint`; imports down the layers pass.
import test from 'ava';
import {ESLint} from 'eslint';
import {repoRoot} from '../io/netns.js';

const eslint = new ESLint({cwd: repoRoot});

/** The rule ids lint reports for `code` as if it were the file `path`. */
async function violations(path: string, code: string): Promise<string[]> {
	const [result] = await eslint.lintText(code, {filePath: `${repoRoot}/${path}`});
	return result!.messages.map((m) => `${m.ruleId}: ${m.message}`);
}

const refused: Array<[string, string]> = [
	['src/wire/planted.ts', "import '../cli/main.js';"],
	['src/wire/planted.ts', "export const m = import('../cli/main.js');"],
	['src/util/planted.ts', "import '../route/table.js';"],
	['src/route/planted.ts', "import '../pipeline/pipeline.js';"],
	['src/pipeline/planted.ts', "import '../roles/client.js';"],
	['src/pipeline/planted.ts', "import '../assembly/stack.js';"],
	['src/roles/planted.ts', "import '../assembly/memnet.js';"],
	['src/assembly/planted.ts', "import '../ops/status.js';"],
	['src/ops/planted.ts', "import '../netns/setup.js';"],
	['src/ops/planted.ts', "import '../cli/main.js';"],
	['src/io/planted.ts', "import '../../test/io/memory.js';"],
	['src/cli/planted.ts', "import '../../lab/nsnet.js';"],
	['bench/planted.ts', "import '../test/helpers/net.js';"],
	['lab/planted.ts', "import '../bench/lib.js';"],
];

for (const [path, code] of refused) {
	test(`refused: ${code} in ${path}`, async (t) => {
		const found = await violations(path, code);
		t.true(found.some((m) => /^no-restricted-(imports|syntax):/.test(m) && m.includes('docs/architecture.md')), found.join('\n') || 'no problem reported');
	});
}

const allowed: Array<[string, string]> = [
	['src/cli/planted.ts', "import '../wire/bytes.js';"],
	['src/netns/planted.ts', "import '../cli/args.js';"],
	['src/pipeline/planted.ts', "import '../route/table.js';"],
	['src/roles/planted.ts', "import '../pipeline/pipeline.js';"],
	['src/route/planted.ts', "import '../anycast/keys.js';"],
	['test/planted.ts', "import '../src/cli/main.js';"],
	['bench/planted.ts', "import '../lab/nsnet.js';"],
];

for (const [path, code] of allowed) {
	test(`allowed: ${code} in ${path}`, async (t) => {
		t.deepEqual(await violations(path, code), []);
	});
}
