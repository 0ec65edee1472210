// c_send: the C sender with the addon's batching, for bench/tun.ts. The JS
// UdpLink.sendBatch of 64 equal datagrams leaves as one UDP GSO message
// (UDP_SEGMENT, udp(7)) in one sendmmsg(2); this does exactly that in a loop,
// so udp.send.pps compares JS with C for the same system calls, not GSO with
// one-datagram-per-message (agio_bench udp-blast, kept as context).
//
//   c_send LOCAL LPORT PEER PPORT SECONDS SIZE [SEGS]
//       SEGS datagrams of SIZE bytes per GSO message (default 64), one message
//       per sendmmsg(2), for SECONDS. Prints one JSON line.
//
// Addresses may carry a zone: fe80::1%veth0 (RFC 4007 §11). Built by
// bench/native/build.ts on demand.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define TOOL_NAME "c_send"
#include "common.h"

#ifndef SOL_UDP
#define SOL_UDP 17
#endif
#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif

int main(int argc, char **argv) {
	if (argc < 7) {
		fprintf(stderr, "usage: c_send LOCAL LPORT PEER PPORT SECONDS SIZE [SEGS]\n");
		return 2;
	}
	struct sockaddr_in6 local, peer;
	endpoint(argv[1], argv[2], &local);
	endpoint(argv[3], argv[4], &peer);
	double seconds = atof(argv[5]);
	size_t size = (size_t)atoi(argv[6]);
	int segs = argc > 7 ? atoi(argv[7]) : 64;
	if (size < 1 || size > 1500 || segs < 1 || segs > 64) {
		errno = EINVAL;
		die("size or segments");
	}
	int fd = socket(AF_INET6, SOCK_DGRAM, 0);
	if (fd < 0) die("socket");
	int b = 4 << 20, one = 1;
	setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &b, sizeof b);
	setsockopt(fd, IPPROTO_IPV6, IPV6_DONTFRAG, &one, sizeof one);
	if (bind(fd, (const struct sockaddr *)&local, sizeof local) < 0) die("bind");
	static uint8_t data[64 * 1500];
	memset(data, 0x60, sizeof data);
	struct iovec iov[64];
	for (int i = 0; i < segs; i++) {
		iov[i].iov_base = data + (size_t)i * size;
		iov[i].iov_len = size;
	}
	uint8_t ctl[CMSG_SPACE(sizeof(uint16_t))];
	struct mmsghdr msg;
	memset(&msg, 0, sizeof msg);
	msg.msg_hdr.msg_name = &peer;
	msg.msg_hdr.msg_namelen = sizeof peer;
	msg.msg_hdr.msg_iov = iov;
	msg.msg_hdr.msg_iovlen = (size_t)segs;
	if (segs > 1) {
		msg.msg_hdr.msg_control = ctl;
		msg.msg_hdr.msg_controllen = sizeof ctl;
		struct cmsghdr *c = CMSG_FIRSTHDR(&msg.msg_hdr);
		c->cmsg_level = SOL_UDP;
		c->cmsg_type = UDP_SEGMENT;
		c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
		uint16_t seg = (uint16_t)size;
		memcpy(CMSG_DATA(c), &seg, sizeof seg);
	}
	double sent = 0, drops = 0, calls = 0, start = now(), end = start + seconds, t = start;
	while (t < end) {
		for (int k = 0; k < 16; k++) {
			int r = sendmmsg(fd, &msg, 1, MSG_DONTWAIT);
			calls++;
			if (r == 1) sent += segs;
			else if (errno == EAGAIN || errno == ENOBUFS) drops += segs;
			else if (errno != EINTR) die("sendmmsg");
		}
		t = now();
	}
	printf("{\"mode\":\"c-send-gso\",\"packets\":%.0f,\"seconds\":%.6f,\"pps\":%.1f,\"drops\":%.0f,\"syscalls\":%.0f}\n", sent, t - start, sent / (t - start), drops, calls);
	return 0;
}
