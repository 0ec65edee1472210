// agio_bench: the plain-C sender and readers that bench/tun.ts measures the
// addon against. Each prints one JSON line on stdout.
//
//   agio_bench udp-blast LOCAL LPORT PEER PPORT SECONDS SIZE
//       sendmmsg(2) UDP datagrams of SIZE bytes, batches of 64, for SECONDS.
//   agio_bench udp-blast-hex LOCAL LPORT PEER PPORT SECONDS HEXPAYLOAD
//       the same with a given payload: an inner IPv6 packet for a link of the
//       userspace network (bench/forward.ts), one per datagram.
//   agio_bench pkt-blast IFNAME SECONDS HEXPACKET
//       sendmmsg(2) the packet on an AF_PACKET socket bound to IFNAME, with
//       PACKET_QDISC_BYPASS (packet(7)): the device's transmit routine gets it
//       straight away, no IP stack and no queueing discipline. Into a TUN this
//       is the cheapest way to make the kernel send the reader packets.
//   agio_bench udp-sink LOCAL LPORT SECONDS WARM
//       recvmmsg(2) drain; counts datagrams for SECONDS after WARM.
//   agio_bench tun-read IFNAME SECONDS WARM
//       poll(2) and read(2) drain of a TUN; counts packets for SECONDS after WARM.
//
// The two readers print {"mode":"ready"} once attached and start their clock
// when a line arrives on stdin, so the caller can start the sender in between.
//   agio_bench tun-write IFNAME SECONDS HEXPACKET
//       write(2) the packet to a TUN in a loop for SECONDS.
//
// Addresses may carry a zone: fe80::1%veth0 (RFC 4007 §11).
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define TOOL_NAME "agio_bench"
#include "common.h"

#define BATCH 64
#define SLOT 2048


static int udp_socket(const struct sockaddr_in6 *local) {
	int fd = socket(AF_INET6, SOCK_DGRAM, 0);
	if (fd < 0) die("socket");
	int b = 4 << 20;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &b, sizeof b);
	setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &b, sizeof b);
	if (bind(fd, (const struct sockaddr *)local, sizeof *local) < 0) die("bind");
	return fd;
}

static int tun_attach(const char *name) {
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK);
	if (fd < 0) die("open /dev/net/tun");
	struct ifreq ifr;
	memset(&ifr, 0, sizeof ifr);
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) die("TUNSETIFF");
	return fd;
}

static double wait_go(void) {
	printf("{\"mode\":\"ready\"}\n");
	fflush(stdout);
	char line[16];
	if (!fgets(line, sizeof line, stdin)) exit(1);
	return now();
}

static void report(const char *mode, double packets, double seconds) {
	printf("{\"mode\":\"%s\",\"packets\":%.0f,\"seconds\":%.6f,\"pps\":%.1f}\n", mode, packets, seconds, seconds > 0 ? packets / seconds : 0);
}

static uint8_t *from_hex(const char *hex, size_t *len);

/** sendmmsg(2) of `iov` to `to` in batches of BATCH for `seconds`, then one JSON line for `mode`. */
static int blast(int fd, void *to, socklen_t tolen, struct iovec *iov, double seconds, const char *mode) {
	struct mmsghdr msgs[BATCH];
	memset(msgs, 0, sizeof msgs);
	for (int i = 0; i < BATCH; i++) {
		msgs[i].msg_hdr.msg_name = to;
		msgs[i].msg_hdr.msg_namelen = tolen;
		msgs[i].msg_hdr.msg_iov = iov;
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	double sent = 0, start = now(), end = start + seconds, t = start;
	while (t < end) {
		for (int k = 0; k < 16; k++) {
			int r = sendmmsg(fd, msgs, BATCH, 0);
			if (r > 0) sent += r;
			else if (errno != EAGAIN && errno != ENOBUFS && errno != EINTR) die("sendmmsg");
		}
		t = now();
	}
	report(mode, sent, t - start);
	return 0;
}

static int udp_blast(char **argv, int hex) {
	struct sockaddr_in6 local, peer;
	endpoint(argv[0], argv[1], &local);
	endpoint(argv[2], argv[3], &peer);
	double seconds = atof(argv[4]);
	int fd = udp_socket(&local);
	static uint8_t fill[SLOT];
	memset(fill, 0x60, sizeof fill);
	uint8_t *data = fill;
	size_t size;
	if (hex) data = from_hex(argv[5], &size);
	else size = (size_t)atoi(argv[5]);
	if (size > SLOT) size = SLOT;
	struct iovec iov = {data, size};
	return blast(fd, &peer, sizeof peer, &iov, seconds, "udp-blast");
}

static uint8_t *from_hex(const char *hex, size_t *len) {
	*len = strlen(hex) / 2;
	uint8_t *out = malloc(*len);
	for (size_t i = 0; i < *len; i++) sscanf(hex + 2 * i, "%2hhx", &out[i]);
	return out;
}

static int pkt_blast(char **argv) {
	size_t len;
	uint8_t *pkt = from_hex(argv[2], &len);
	double seconds = atof(argv[1]);
	int fd = socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_IPV6));
	if (fd < 0) die("socket(AF_PACKET)");
	int one = 1;
	setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one);
	struct sockaddr_ll to;
	memset(&to, 0, sizeof to);
	to.sll_family = AF_PACKET;
	to.sll_protocol = htons(ETH_P_IPV6);
	to.sll_ifindex = (int)if_nametoindex(argv[0]);
	if (!to.sll_ifindex) die(argv[0]);
	struct iovec iov = {pkt, len};
	return blast(fd, &to, sizeof to, &iov, seconds, "pkt-blast");
}

static int udp_sink(char **argv) {
	struct sockaddr_in6 local;
	endpoint(argv[0], argv[1], &local);
	double seconds = atof(argv[2]), warm = atof(argv[3]);
	int fd = udp_socket(&local);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	static uint8_t bufs[BATCH][SLOT];
	struct iovec iov[BATCH];
	struct mmsghdr msgs[BATCH];
	memset(msgs, 0, sizeof msgs);
	for (int i = 0; i < BATCH; i++) {
		iov[i].iov_base = bufs[i];
		iov[i].iov_len = SLOT;
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	double start = wait_go(), t0 = start + warm, t1 = t0 + seconds, count = 0;
	struct pollfd pfd = {fd, POLLIN, 0};
	for (;;) {
		double t = now();
		if (t >= t1) break;
		if (poll(&pfd, 1, 50) <= 0) continue;
		int r;
		while ((r = recvmmsg(fd, msgs, BATCH, MSG_DONTWAIT, NULL)) > 0) {
			if (t >= t0) count += r;
			if (r < BATCH) break;
		}
	}
	report("udp-sink", count, seconds);
	return 0;
}

// What the kernel offered the TUN: packets read plus packets dropped because
// the reader's ring was full (tun_net_xmit), from the device's statistics.
static double offered(const char *dev) {
	double sum = 0;
	const char *names[] = {"tx_packets", "tx_dropped"};
	for (int i = 0; i < 2; i++) {
		char path[128];
		snprintf(path, sizeof path, "/sys/class/net/%s/statistics/%s", dev, names[i]);
		FILE *f = fopen(path, "r");
		double v = 0;
		if (f) {
			if (fscanf(f, "%lf", &v) != 1) v = 0;
			fclose(f);
		}
		sum += v;
	}
	return sum;
}

static int tun_read(char **argv) {
	int fd = tun_attach(argv[0]);
	double seconds = atof(argv[1]), warm = atof(argv[2]);
	static uint8_t buf[65536];
	double start = wait_go(), t0 = start + warm, t1 = t0 + seconds, count = 0, o0 = -1;
	struct pollfd pfd = {fd, POLLIN, 0};
	for (;;) {
		double t = now();
		if (t >= t1) break;
		if (t >= t0 && o0 < 0) o0 = offered(argv[0]);
		if (poll(&pfd, 1, 50) <= 0) continue;
		int n = 0;
		while (n < 256 && read(fd, buf, sizeof buf) > 0) n++;
		if (t >= t0) count += n;
	}
	double o1 = offered(argv[0]);
	printf("{\"mode\":\"tun-read\",\"packets\":%.0f,\"seconds\":%.6f,\"pps\":%.1f,\"offered\":%.1f}\n", count, seconds, count / seconds, (o1 - o0) / seconds);
	return 0;
}

static int tun_write(char **argv) {
	int fd = tun_attach(argv[0]);
	double seconds = atof(argv[1]);
	size_t len;
	uint8_t *pkt = from_hex(argv[2], &len);
	double sent = 0, start = now(), end = start + seconds, t = start;
	while (t < end) {
		for (int k = 0; k < 256; k++)
			if (write(fd, pkt, len) == (ssize_t)len) sent++;
		t = now();
	}
	report("tun-write", sent, t - start);
	return 0;
}

int main(int argc, char **argv) {
	if (argc >= 8 && strcmp(argv[1], "udp-blast") == 0) return udp_blast(argv + 2, 0);
	if (argc >= 8 && strcmp(argv[1], "udp-blast-hex") == 0) return udp_blast(argv + 2, 1);
	if (argc >= 5 && strcmp(argv[1], "pkt-blast") == 0) return pkt_blast(argv + 2);
	if (argc >= 6 && strcmp(argv[1], "udp-sink") == 0) return udp_sink(argv + 2);
	if (argc >= 5 && strcmp(argv[1], "tun-read") == 0) return tun_read(argv + 2);
	if (argc >= 5 && strcmp(argv[1], "tun-write") == 0) return tun_write(argv + 2);
	fprintf(stderr, "usage: agio_bench udp-blast|udp-blast-hex|pkt-blast|udp-sink|tun-read|tun-write ... (see the source)\n");
	return 2;
}
