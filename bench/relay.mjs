// The JavaScript relay of bench/e2e.ts: the addon's TUN and UDP links (dist/io,
// what a role process uses), static routes, no pipeline — the same job as
// bench/native/c_relay.c, with its arguments, in a Node process. Between the
// C relay and a role process, it tells what Node and the addon cost a hop
// apart from the pipeline.
//
//   node bench/relay.mjs [--tun NAME] [--link NAME LOCAL PEER PORT]... [--route PREFIX/LEN TARGET]...
import process from 'node:process';
import {setInterval} from 'node:timers';
import {openTun} from '../dist/io/tun.js';
import {openUdpLink} from '../dist/io/udp-link.js';
import {parsePrefix} from '../dist/util/addr.js';

const argv = process.argv.slice(2);
const ports = new Map();
const routes = [];
for (let i = 0; i < argv.length; i++) {
	if (argv[i] === '--tun') ports.set('tun', openTun(argv[++i]));
	else if (argv[i] === '--link') {
		const [name, local, peer, port] = argv.slice(i + 1, i + 5);
		i += 4;
		ports.set(name, openUdpLink({name, local: {address: local, port: Number(port)}, peer: {address: peer, port: Number(port)}}));
	} else if (argv[i] === '--route') {
		const {addr, len} = parsePrefix(argv[i + 1]);
		routes.push({addr, len, target: argv[i + 2]});
		i += 2;
	} else throw new Error(`bench/relay.mjs: unknown argument ${argv[i]}`);
}
// Longest prefix first, as c_relay matches.
const table = routes.sort((a, b) => b.len - a.len).map((r) => ({...r, out: ports.get(r.target)}));
const tun = ports.get('tun');

function lookup(buf, off) {
	for (const r of table) {
		const full = r.len >> 3;
		const rest = r.len & 7;
		let i = 0;
		while (i < full && buf[off + i] === r.addr[i]) i++;
		if (i < full) continue;
		if (rest && ((buf[off + full] ^ r.addr[full]) & (0xff00 >> rest) & 0xff)) continue;
		return r.out;
	}
	return undefined;
}

for (const port of ports.values()) {
	port.onReceive((buf, offsets, lengths, count) => {
		for (let i = 0; i < count; i++) {
			const o = offsets[i];
			if (lengths[i] < 40) continue;
			const out = lookup(buf, o + 24);
			if (!out || out === port) continue;
			if (port !== tun && out !== tun) {
				if (buf[o + 7] <= 1) continue;
				buf[o + 7]--;
			}
			out.send(buf, o, lengths[i]);
		}
	});
}
process.stdout.write('{"mode":"ready"}\n');
setInterval(() => {}, 1 << 30);
