// Packets captured from the Linux kernel (test/fixtures/wire/capture.sh):
// each decodes to the fields the capture script produced, and re-emitting the
// decoded value gives the same bytes, into a buffer pre-filled with junk.
import test from 'ava';
import type {ExecutionContext} from 'ava';
import {decodePacket, emitPacket, packetLength, parsePacket, Proto, Icmp6} from '../../src/wire/index.js';
import type {PacketRepr} from '../../src/wire/index.js';
import {addr, junk, readHex, toHex} from '../helpers/bytes.js';

const A = addr('2001:db8:ff:1::1');
const B = addr('2001:db8:ff:2::1');
const R = addr('2001:db8:ff:1::2');

function reemit(t: ExecutionContext, bytes: Uint8Array, repr: PacketRepr): void {
	const buf = junk(packetLength(repr) + 3);
	const n = emitPacket(repr, buf, 3);
	t.is(n, bytes.length);
	t.is(toHex(buf.subarray(3)), toHex(bytes));
}

test('kernel ping echo request', (t) => {
	const bytes = readHex('wire/echo-request.hex');
	const p = decodePacket(bytes);
	t.deepEqual(p.ip.src, A);
	t.deepEqual(p.ip.dst, B);
	t.is(p.ip.hopLimit, 64);
	t.is(p.ext.length, 0);
	t.is(p.upper.proto, Proto.Icmpv6);
	if (!('icmp' in p.upper) || p.upper.icmp.kind !== 'echo') return t.fail('not an echo');
	t.is(p.upper.icmp.type, Icmp6.EchoRequest);
	t.is(p.upper.icmp.code, 0);
	t.is(p.upper.icmp.sequence, 1);
	t.is(p.upper.icmp.data.length, 56); // ping's default payload
	// ping -p 616e7967756172640a repeats the pattern after its timestamp.
	t.true(Buffer.from(p.upper.icmp.data).toString('latin1').includes('anyguard\nanyguard\n'));
	reemit(t, bytes, p);
});

test('kernel UDP datagram', (t) => {
	const bytes = readHex('wire/udp.hex');
	const p = decodePacket(bytes);
	t.deepEqual(p.ip.src, A);
	t.deepEqual(p.ip.dst, B);
	if (!('udp' in p.upper)) return t.fail('not UDP');
	t.is(p.upper.udp.dstPort, 7);
	t.true(p.upper.udp.srcPort >= 1024);
	t.is(Buffer.from(p.upper.udp.payload).toString(), 'anyguard fixture\n');
	reemit(t, bytes, p);
});

test('kernel Time Exceeded quotes the invoking echo request', (t) => {
	const bytes = readHex('wire/time-exceeded.hex');
	const p = decodePacket(bytes);
	t.deepEqual(p.ip.src, R);
	t.deepEqual(p.ip.dst, A);
	if (!('icmp' in p.upper) || p.upper.icmp.kind !== 'error') return t.fail('not an error');
	t.is(p.upper.icmp.type, Icmp6.TimeExceeded);
	t.is(p.upper.icmp.code, 0);
	t.is(p.upper.icmp.param, 0);
	const inner = parsePacket(p.upper.icmp.invoking);
	t.deepEqual(p.upper.icmp.invoking.subarray(8, 24), A);
	t.deepEqual(p.upper.icmp.invoking.subarray(24, 40), B);
	t.is(p.upper.icmp.invoking[7], 1, 'the quoted packet had hop limit 1');
	t.is(inner.upperProto, Proto.Icmpv6);
	t.is(p.upper.icmp.invoking[inner.upperOff], Icmp6.EchoRequest);
	reemit(t, bytes, p);
});

test('kernel Packet Too Big reports 1280 and fills the minimum MTU', (t) => {
	const bytes = readHex('wire/packet-too-big.hex');
	const p = decodePacket(bytes);
	t.deepEqual(p.ip.src, R);
	t.deepEqual(p.ip.dst, A);
	t.is(bytes.length, 1280, 'RFC 4443 §2.4(c): as much as fits in the minimum MTU');
	if (!('icmp' in p.upper) || p.upper.icmp.kind !== 'error') return t.fail('not an error');
	t.is(p.upper.icmp.type, Icmp6.PacketTooBig);
	t.is(p.upper.icmp.param, 1280);
	t.deepEqual(p.upper.icmp.invoking.subarray(24, 40), B);
	// The quote is cut short, so the quoted header claims more than is there.
	t.is((p.upper.icmp.invoking[4]! << 8) | p.upper.icmp.invoking[5]!, 1408);
	reemit(t, bytes, p);
});
