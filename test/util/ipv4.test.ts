// IPv4 at a TUN is decoded with ip-packet for the drop log.
import test from 'ava';
import {describeIpv4} from '../../src/util/ipv4.js';
import {fromHex} from '../helpers/bytes.js';

test('an IPv4 header is described for the log', (t) => {
	// 192.0.2.1 → 192.0.2.2 (TEST-NET-1, RFC 5737), ICMP, TTL 64, 28 bytes.
	const bytes = fromHex('4500001c0000400040010000c0000201c0000202 0800f7ff00000000');
	t.deepEqual(describeIpv4(bytes), {src: '192.0.2.1', dst: '192.0.2.2', protocol: 1, ttl: 64, length: 28});
});

test('a short or unsupported header is said to be so, not thrown', (t) => {
	t.deepEqual(describeIpv4(fromHex('4500')), {ipv4: 'truncated', length: 2});
	const withOptions = fromHex('460000200000400040010000c0000201c000020200000000 0800f7ff00000000');
	t.regex(String(describeIpv4(withOptions).ipv4), /IHL/);
});
