#!/usr/bin/env node
// The anyguard command: finds the command in the table (src/cli/commands.ts),
// checks its arguments (src/cli/args.ts) and runs it.
import {UsageError, overview, parse, usage} from './args.js';
import {COMMANDS} from './commands.js';

/** Errors meant for the user, by name (their modules load only with the commands that throw them): printed without a stack trace, exit status 2. */
const USER_ERRORS = new Set(['UsageError', 'TopologyError', 'KeyError', 'SetupError', 'IoError', 'StateDirError', 'ConditionError', 'ConditionSyntaxError', 'LinkError', 'BirdError', 'InteropUsageError', 'DrillError']);

async function main(argv: string[]): Promise<number> {
	const [name, ...rest] = argv;
	if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
		const about = rest[0] && COMMANDS.find((c) => c.name === rest[0]);
		process.stdout.write(about ? usage(about) : overview(COMMANDS));
		return 0;
	}
	const command = COMMANDS.find((c) => c.name === name);
	if (!command) throw new UsageError(`unknown command ${JSON.stringify(name)}\n\n${overview(COMMANDS)}`);
	const args = parse(command, rest);
	if (args.flag('help')) {
		process.stdout.write(usage(command));
		return 0;
	}
	return command.run(args);
}

main(process.argv.slice(2)).then(
	(code) => {
		if (code >= 0) process.exitCode = code;
	},
	(error: unknown) => {
		if (error instanceof Error && USER_ERRORS.has(error.name)) {
			process.stderr.write(`anyguard: ${error.message}\n`);
			process.exitCode = 2;
		} else {
			throw error;
		}
	},
);
