#!/usr/bin/python3
"""Pretenders crafted with scapy (a tool anyguard did not write), put on a
node's own wire: each inner IPv6 packet goes in a UDP datagram of the
underlay, from the sender's veth address and port, to its neighbour's, so the
first node of ours that parses it is the neighbour (the sender owns its
device). Run inside the sender's namespace with Debian's /usr/bin/python3.

  forge.py '{"dev": "to-internet", "src": "fe80::1", "dst": "fe80::2", "recipe": ..., ...}'

Every forged payload carries MARK, so a capture can tell forged from genuine.
Prints one JSON line: {"sent": N, "recipe": ...}.
"""
import json, random, sys, time
from scapy.all import conf, Ether, IPv6, UDP, TCP, Raw, ICMPv6EchoReply, ICMPv6EchoRequest, \
    ICMPv6DestUnreach, ICMPv6PacketTooBig, ICMPv6TimeExceeded, ICMPv6ParamProblem, ICMPv6Unknown, \
    IPv6ExtHdrFragment, IPv6ExtHdrHopByHop, IPv6ExtHdrDestOpt, IPv6ExtHdrRouting, PadN, \
    DNS, DNSQR, DNSRR, fragment6
from scapy.contrib.ripng import RIPng, RIPngEntry
import subprocess

conf.verb = 0
import logging
logging.getLogger('scapy.runtime').setLevel(logging.ERROR)
MARK = b'anyguard-forged'
LINK_PORT = 6464


def peer_mac(dev, ip):
    subprocess.run(['ping', '-6', '-c', '1', '-W', '1', f'{ip}%{dev}'], capture_output=True)
    out = subprocess.run(['ip', '-j', '-6', 'neigh', 'show', 'dev', dev], capture_output=True, text=True).stdout
    for n in json.loads(out or '[]'):
        if n.get('dst') == ip and n.get('lladdr'):
            return n['lladdr']
    raise SystemExit(f'no neighbour entry for {ip} on {dev}')


# Wrappers around an upper layer: every order and repetition worth trying.
def wrap(name, ident):
    f = lambda i: IPv6ExtHdrFragment(offset=0, m=0, id=i)
    hbh = IPv6ExtHdrHopByHop(options=[PadN(optdata=b'\x00\x00\x00\x00')])
    dst = IPv6ExtHdrDestOpt(options=[PadN(optdata=b'\x00\x00\x00\x00')])
    rh0 = IPv6ExtHdrRouting(type=0, segleft=0, addresses=['2001:db8::1'])
    rh4 = IPv6ExtHdrRouting(type=4, segleft=0, addresses=['2001:db8::1'])
    return {
        'none': [],
        'frag2': [f(ident), f(ident + 1)],
        'frag-dst-frag': [f(ident), dst, f(ident + 1)],
        'hbh-frag2': [hbh, f(ident), f(ident + 1)],
        'frag3': [f(ident), f(ident + 1), f(ident + 2)],
        'rh-dst-rh': [rh0, dst, rh4],
        'frag': [f(ident)],
        'hbh-frag': [hbh, f(ident)],
        'dst-frag': [dst, f(ident)],
        'frag-dst': [f(ident), dst],
        'rh0': [rh0],
        'rh4-frag': [rh4, f(ident)],
        'dst-dst': [dst, dst],
    }[name]


def chain(ip, headers, upper):
    p = ip
    for h in headers:
        p = p / h
    return p / upper


def echo_reply(a, src, seq, ident=None, wrapper='none'):
    upper = ICMPv6EchoReply(id=a['echoId'] if ident is None else ident, seq=seq, data=MARK)
    return chain(IPv6(src=src, dst=a['client']), wrap(wrapper, seq * 7 + 1), upper)


def quoted(a, seq):
    """The victim's request an error quotes: its echo request, DNS query or TCP segment."""
    q = a.get('quote', 'echo')
    if q == 'echo':
        return IPv6(src=a['client'], dst=a['S'], hlim=a.get('quoteHlim', 64)) / ICMPv6EchoRequest(id=a['echoId'], seq=seq, data=MARK)
    if q == 'udp':
        return IPv6(src=a['client'], dst=a['S'], hlim=64) / UDP(sport=a['port'], dport=53) / Raw(MARK + b'\x00' * 17)
    return IPv6(src=a['client'], dst=a['S'], hlim=64) / TCP(sport=a['port'], dport=a.get('dport', 80), seq=a.get('seq', 1), flags='A')


def icmp_error(a, src, t, code, seq):
    q = bytes(quoted(a, seq))
    body = {1: lambda: ICMPv6DestUnreach(code=code), 2: lambda: ICMPv6PacketTooBig(mtu=a.get('mtu', 1280)),
            3: lambda: ICMPv6TimeExceeded(code=code), 4: lambda: ICMPv6ParamProblem(code=code, ptr=40)}
    err = body[t]() if t in body else ICMPv6Unknown(type=t, code=code, msgbody=b'\x00\x00\x00\x00')
    return IPv6(src=src, dst=a['client']) / err / Raw(q)


def recipe(a):
    r = a['recipe']
    seqs = a.get('seqs', [1])
    if r == 'echo-wrapped':
        return [echo_reply(a, src, s, wrapper=w) for w in a['wrappers'] for src in a['srcs'] for s in seqs]
    if r == 'echo-real-fragments':
        out = []
        for src in a['srcs']:
            for s in seqs:
                whole = IPv6(src=src, dst=a['client']) / IPv6ExtHdrFragment(id=0x5000 + s) / ICMPv6EchoReply(id=a['echoId'], seq=s, data=MARK * 80)
                out += fragment6(whole, 600)
        return out
    if r == 'from-s':
        S, c = a['S'], a['client']
        return [IPv6(src=S, dst=c) / ICMPv6EchoReply(id=(a['echoId'] + 1) & 0xffff, seq=s, data=MARK) for s in seqs] + \
               [IPv6(src=S, dst=c) / UDP(sport=53, dport=40000 + s) / Raw(MARK) for s in seqs] + \
               [IPv6(src=S, dst=c) / TCP(sport=80, dport=41000 + s, flags='S', seq=s) / Raw(MARK) for s in seqs]
    if r == 'icmp-errors':
        return [icmp_error(a, src, t, code, s) for (t, code) in a['types'] for src in a['srcs'] for s in seqs]
    if r == 'syn-from-s':
        rnd = random.Random(a.get('seed', 1))
        return [IPv6(src=a['S'], dst=a['client']) / TCP(sport=80, dport=rnd.randrange(1024, 65535), flags='S', seq=rnd.randrange(1 << 32)) for _ in range(a['n'])]
    if r == 'reflect-echo':
        return [IPv6(src=a['client'], dst=a['S']) / ICMPv6EchoRequest(id=a['echoId'], seq=s, data=MARK) for s in seqs]
    if r == 'reflect-dns':
        return [IPv6(src=a['client'], dst=a['S']) / UDP(sport=a['port'], dport=53) / DNS(id=a.get('dnsId', 4242), rd=1, qd=DNSQR(qname='whoami.anyguard', qtype='TXT')) for _ in range(a['n'])]
    if r == 'dns-answer':
        out = []
        for src in a['srcs']:
            for i in range(a['n']):
                ans = DNS(id=i & 0xffff, qr=1, aa=1, qd=DNSQR(qname='whoami.anyguard', qtype='TXT'), an=DNSRR(rrname='whoami.anyguard', type='TXT', rdata=MARK))
                out.append(IPv6(src=src, dst=a['client']) / UDP(sport=53, dport=a['port']) / ans)
        return out
    if r == 'tcp':
        out = []
        for src in a['srcs']:
            for k in range(a['n']):
                seq = (a['seq'] + k * a.get('step', 1)) & 0xffffffff
                out.append(IPv6(src=src, dst=a['client']) / TCP(sport=a['sport'], dport=a['dport'], seq=seq, ack=a['ack'], flags=a['flags']) / Raw(MARK if 'P' in a['flags'] else b''))
        return out
    if r == 'ripng':
        rnd = random.Random(a.get('seed', 2))
        out = []
        for i in range(a['n']):
            src = 'fe80::%x:%x:%x' % (0xa000 + rnd.randrange(0x1000), rnd.randrange(0x10000), i)
            out.append(IPv6(src=src, dst=a['router'], hlim=64) / UDP(sport=521, dport=521) / RIPng(cmd=1) / RIPngEntry(metric=16))
            out.append(IPv6(src=src, dst='ff02::9', hlim=255) / UDP(sport=521, dport=521) / RIPng(cmd=2) / RIPngEntry(prefix_or_nh='2001:db8:77:%x::' % i, prefixlen=64, metric=1))
        return out
    if r == 'first-fragments':
        return [IPv6(src=a['from'], dst=a['target']) / IPv6ExtHdrFragment(offset=0, m=1, id=0x70000 + i) / ICMPv6EchoRequest(id=1, seq=i, data=MARK + b'\x00' * 9) for i in range(a['n'])]
    raise SystemExit(f'unknown recipe {r}')


def main():
    a = json.loads(sys.argv[1])
    packets = [bytes(p) for p in recipe(a)]
    mac = peer_mac(a['dev'], a['dst'])
    sock = conf.L2socket(iface=a['dev'])
    frames = [bytes(Ether(dst=mac) / IPv6(src=a['src'], dst=a['dst'], hlim=64) / UDP(sport=LINK_PORT, dport=LINK_PORT) / Raw(p)) for p in packets]
    gap = a.get('gapMs', 1) / 1000
    sent = 0
    until = time.monotonic() + a.get('seconds', 0)
    while True:
        for f in frames:
            sock.send(f)
            sent += 1
            if gap:
                time.sleep(gap)
        if time.monotonic() >= until:
            break
    print(json.dumps({'recipe': a['recipe'], 'sent': sent, 'distinct': len(frames)}))


main()
