#!/usr/bin/env python3
"""Crafted packets into a node's TUN, from inside its namespace.

A packet socket (packet(7)) bound to the TUN hands each packet to the
device's transmit routine, which is what the node process reads: to the node
it looks as if its host had sent it. Packets the node writes back to the TUN
arrive as PACKET_HOST and are printed, one hex line each, for --listen-ms.

  inject.py DEV [--listen-ms N] [--gap-ms N]             hex packets on stdin
  inject.py DEV --flood SECONDS --rate PPS               cycle them for SECONDS
"""
import argparse, json, socket, sys, time

ETH_P_ALL = 0x0003
ETH_P_IPV6 = 0x86DD
PACKET_HOST = 0

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('dev')
    ap.add_argument('--listen-ms', type=int, default=0)
    ap.add_argument('--gap-ms', type=float, default=5)
    ap.add_argument('--flood', type=float, default=0)
    ap.add_argument('--rate', type=float, default=1000)
    a = ap.parse_args()
    packets = [bytes.fromhex(l.strip()) for l in sys.stdin if l.strip()]
    tx = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(ETH_P_IPV6))
    rx = None
    if a.listen_ms:
        rx = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(ETH_P_ALL))
        rx.bind((a.dev, ETH_P_ALL))
        rx.setblocking(False)
    if a.flood:
        sent = dropped = 0
        start = time.monotonic()
        i = 0
        while True:
            now = time.monotonic() - start
            if now >= a.flood:
                break
            due = int(now * a.rate)
            while sent + dropped < due:
                try:
                    tx.sendto(packets[i % len(packets)], (a.dev, ETH_P_IPV6))
                    sent += 1
                except OSError:
                    dropped += 1  # ENOBUFS: the TUN queue is full; a flood does not wait
                i += 1
            time.sleep(0.001)
        print(json.dumps({'sent': sent, 'dropped': dropped, 'seconds': a.flood}))
        return
    for p in packets:
        tx.sendto(p, (a.dev, ETH_P_IPV6))
        time.sleep(a.gap_ms / 1000)
    if rx is None:
        return
    deadline = time.monotonic() + a.listen_ms / 1000
    while time.monotonic() < deadline:
        try:
            data, addr = rx.recvfrom(65536)
        except BlockingIOError:
            time.sleep(0.005)
            continue
        if addr[2] == PACKET_HOST:
            print(data.hex())
    sys.stdout.flush()

main()
