// `anyguard supervise <node>`: keeps one role process running in its
// namespace. A process that exits is started again after a delay, unless the
// node was stopped on purpose (a stop file in the state directory, made by
// `anyguard stop-node`); removing that file (`anyguard start-node`) starts it.
import {spawn} from 'node:child_process';
import type {ChildProcess} from 'node:child_process';
import {existsSync, rmSync, writeFileSync} from 'node:fs';
import {birdCommand, files} from '../netns/names.js';

export interface SuperviseOptions {
	node: string;
	topology: string;
	state: string;
	restartDelayMs: number;
}

function stamp(): string {
	return new Date().toISOString();
}

export function runSupervisor(o: SuperviseOptions): void {
	writeFileSync(files.supervisorPid(o.state, o.node), `${process.pid}\n`, {mode: 0o600});
	// A bird node's process is BIRD itself, in the foreground, with the configuration up wrote (src/netns/bird.ts).
	// Any other's is the anyguard command this supervisor runs under (dist/, or the source through tsx):
	// its own entry and flags, not netns/setup.ts's selfCommand, which would load the whole stack here.
	const bird = birdCommand(o.state, o.node);
	const command = bird ?? [process.execPath, ...process.execArgv, process.argv[1]!, 'node', o.node, '--topology', o.topology, '--state', o.state];
	let child: ChildProcess | undefined;
	let stopping = false;
	let starts = 0;
	const start = () => {
		if (stopping) return;
		if (existsSync(files.stop(o.state, o.node))) {
			setTimeout(start, 100); // stopped on purpose: wait for start-node
			return;
		}
		starts++;
		const [exe, ...args] = command;
		child = spawn(exe!, args, {stdio: ['ignore', 'inherit', 'inherit']});
		writeFileSync(files.pid(o.state, o.node), `${child.pid}\n`, {mode: 0o600});
		console.log(`${stamp()} supervise ${o.node}: started ${bird ? 'BIRD' : 'role process'} ${child.pid} (start ${starts})`);
		child.on('exit', (code, signal) => {
			rmSync(files.pid(o.state, o.node), {force: true});
			if (stopping) return process.exit(0);
			console.log(`${stamp()} supervise ${o.node}: role process exited (${signal ?? `code ${code}`}); restarting in ${o.restartDelayMs} ms`);
			setTimeout(start, o.restartDelayMs);
		});
	};
	const stop = () => {
		stopping = true;
		if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
		else process.exit(0);
		setTimeout(() => process.exit(0), 3000).unref();
	};
	process.on('SIGTERM', stop);
	process.on('SIGINT', stop);
	start();
}
