// c_relay: the floor of a process-per-node design, for bench/e2e.ts and
// bench/tun.ts. One process per node, on the same TUN and UDP links as a role
// process, forwarding by static routes with no hooks — and the same I/O as the
// addon (src/io/native/anyguard_io.c): epoll; UDP received with recvmmsg(2) in
// batches of 64, up to 4 batches per wakeup; what a batch sends queued per
// link and sent when the batch is done, in one sendmmsg(2), runs of equal-sized
// datagrams as one UDP GSO message; TUN read and written one packet per call.
// What it leaves out is the pipeline: no checks beyond the hop limit, no
// identifiers, no routing protocol, no counters but its own.
//
//   c_relay [--tun NAME] [--link NAME LOCAL PEER PORT]... [--route PREFIX/LEN TARGET]... [--no-gso]
//       TARGET: a link's NAME, or "tun". Prefixes are matched longest first.
//       A packet from a link to a link has its hop limit decremented (dropped
//       at 1); to or from the TUN it is not (as a role process does).
//       Prints {"mode":"ready"} once attached; on SIGTERM or SIGINT, its counters.
//
// Built by bench/native/build.ts on demand (not on npm install).
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef SOL_UDP
#define SOL_UDP 17
#endif
#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif

#define BATCH 64
#define SLOT 2048
#define ROUNDS_PER_WAKE 4
#define MAX_PORTS 16
#define MAX_ROUTES 64
#define GSO_MAX_BYTES 65000
#define TUN_MAX_READ 65536

typedef struct {
	const char *name;
	int fd;
	int tun;
	struct sockaddr_in6 peer;
	// receive
	uint8_t *rx;
	struct mmsghdr rmsg[BATCH];
	struct iovec riov[BATCH];
	struct sockaddr_in6 rname[BATCH];
	// transmit queue (UDP)
	uint8_t *tx;
	struct iovec tiov[BATCH];
	struct mmsghdr gmsg[BATCH];
	uint8_t gctl[BATCH][CMSG_SPACE(sizeof(uint16_t))];
	uint32_t gsegs[BATCH];
	uint32_t tcount;
	int dirty;
	double rx_packets, tx_packets, tx_drops, tx_syscalls, foreign;
} port_t;

typedef struct {
	uint8_t prefix[16];
	int len;
	int port;
} route_t;

static port_t ports[MAX_PORTS];
static int nports;
static route_t routes[MAX_ROUTES];
static int nroutes;
static int gso = 1;
static double no_route, hop_limit;
static volatile sig_atomic_t stop;

static void die(const char *what) {
	fprintf(stderr, "c_relay: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void on_signal(int s) {
	(void)s;
	stop = 1;
}

static int find_port(const char *name) {
	for (int i = 0; i < nports; i++)
		if (strcmp(ports[i].name, name) == 0) return i;
	return -1;
}

static int addr_of(const char *text, uint16_t port, unsigned scope, struct sockaddr_in6 *out) {
	memset(out, 0, sizeof *out);
	out->sin6_family = AF_INET6;
	out->sin6_port = htons(port);
	if (inet_pton(AF_INET6, text, &out->sin6_addr) != 1) return -1;
	if (IN6_IS_ADDR_LINKLOCAL(&out->sin6_addr)) out->sin6_scope_id = scope; // RFC 4007 §6
	return 0;
}

static void open_link(const char *name, const char *local, const char *peer, int portno) {
	port_t *p = &ports[nports];
	p->name = name;
	unsigned scope = if_nametoindex(name);
	struct sockaddr_in6 la;
	if (addr_of(local, (uint16_t)portno, scope, &la) || addr_of(peer, (uint16_t)portno, scope, &p->peer)) {
		errno = EINVAL;
		die("address");
	}
	p->fd = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (p->fd < 0) die("socket");
	int one = 1, b = 4 << 20;
	setsockopt(p->fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
	setsockopt(p->fd, IPPROTO_IPV6, IPV6_DONTFRAG, &one, sizeof one);
	setsockopt(p->fd, SOL_SOCKET, SO_RCVBUFFORCE, &b, sizeof b);
	setsockopt(p->fd, SOL_SOCKET, SO_SNDBUFFORCE, &b, sizeof b);
	if (bind(p->fd, (struct sockaddr *)&la, sizeof la) < 0) die("bind");
	p->rx = malloc((size_t)BATCH * SLOT);
	p->tx = malloc((size_t)BATCH * SLOT);
	if (!p->rx || !p->tx) die("malloc");
	for (int i = 0; i < BATCH; i++) {
		p->riov[i].iov_base = p->rx + (size_t)i * SLOT;
		p->riov[i].iov_len = SLOT;
		p->rmsg[i].msg_hdr.msg_name = &p->rname[i];
		p->rmsg[i].msg_hdr.msg_iov = &p->riov[i];
		p->rmsg[i].msg_hdr.msg_iovlen = 1;
	}
	nports++;
}

static void open_tun(const char *name) {
	port_t *p = &ports[nports];
	p->name = "tun";
	p->tun = 1;
	p->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (p->fd < 0) die("open /dev/net/tun");
	struct ifreq ifr;
	memset(&ifr, 0, sizeof ifr);
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	if (ioctl(p->fd, TUNSETIFF, &ifr) < 0) die("TUNSETIFF");
	p->rx = malloc(TUN_MAX_READ);
	if (!p->rx) die("malloc");
	nports++;
}

static void add_route(const char *spec, const char *target) {
	char buf[64];
	snprintf(buf, sizeof buf, "%s", spec);
	char *slash = strchr(buf, '/');
	route_t *r = &routes[nroutes];
	r->len = slash ? atoi(slash + 1) : 128;
	if (slash) *slash = 0;
	if (inet_pton(AF_INET6, buf, r->prefix) != 1 || r->len < 0 || r->len > 128) {
		errno = EINVAL;
		die(spec);
	}
	r->port = find_port(target);
	if (r->port < 0) {
		errno = ENOENT;
		die(target);
	}
	nroutes++;
}

static int lookup(const uint8_t *dst) {
	int best = -1, best_len = -1;
	for (int i = 0; i < nroutes; i++) {
		const route_t *r = &routes[i];
		if (r->len <= best_len) continue;
		int full = r->len / 8, rest = r->len % 8;
		if (memcmp(dst, r->prefix, (size_t)full) != 0) continue;
		if (rest && ((dst[full] ^ r->prefix[full]) & (0xff00 >> rest) & 0xff)) continue;
		best = r->port;
		best_len = r->len;
	}
	return best;
}

// ---- transmit, as the addon does -------------------------------------------

static void udp_flush(port_t *p) {
	uint32_t n = p->tcount, i = 0;
	p->tcount = 0;
	p->dirty = 0;
	while (i < n) {
		uint32_t m = 0, start = i;
		while (i < n && m < BATCH) {
			size_t size = p->tiov[i].iov_len, total = size;
			uint32_t k = i + 1;
			if (gso)
				while (k < n && k - i < 64 && p->tiov[k].iov_len <= size && total + p->tiov[k].iov_len <= GSO_MAX_BYTES) {
					total += p->tiov[k].iov_len;
					if (p->tiov[k++].iov_len < size) break;
				}
			struct msghdr *h = &p->gmsg[m].msg_hdr;
			memset(h, 0, sizeof *h);
			h->msg_name = &p->peer;
			h->msg_namelen = sizeof p->peer;
			h->msg_iov = &p->tiov[i];
			h->msg_iovlen = k - i;
			if (k - i > 1) {
				h->msg_control = p->gctl[m];
				h->msg_controllen = CMSG_SPACE(sizeof(uint16_t));
				struct cmsghdr *c = CMSG_FIRSTHDR(h);
				c->cmsg_level = SOL_UDP;
				c->cmsg_type = UDP_SEGMENT;
				c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
				uint16_t seg = (uint16_t)size;
				memcpy(CMSG_DATA(c), &seg, sizeof seg);
			}
			p->gsegs[m++] = k - i;
			i = k;
		}
		uint32_t s = 0;
		while (s < m) {
			int r = sendmmsg(p->fd, p->gmsg + s, m - s, MSG_DONTWAIT);
			p->tx_syscalls++;
			if (r > 0) {
				for (int q = 0; q < r; q++) p->tx_packets += p->gsegs[s + q];
				s += (uint32_t)r;
			} else if (r < 0 && errno == EINTR) {
				continue;
			} else if (r < 0 && (errno == EIO || errno == EINVAL) && gso && p->gsegs[s] > 1) {
				gso = 0; // no GSO here: as the addon, on with one datagram per message
				i = start;
				for (uint32_t q = 0; q < s; q++) i += p->gsegs[q];
				break;
			} else {
				for (; s < m; s++) p->tx_drops += p->gsegs[s];
			}
		}
	}
}

static void send_to(port_t *out, const uint8_t *data, uint32_t len) {
	if (out->tun) {
		ssize_t r;
		do r = write(out->fd, data, len);
		while (r < 0 && errno == EINTR);
		out->tx_syscalls++;
		if (r >= 0) out->tx_packets++;
		else out->tx_drops++;
		return;
	}
	if (len > SLOT) return;
	if (out->tcount == BATCH) udp_flush(out);
	uint8_t *slot = out->tx + (size_t)out->tcount * SLOT;
	memcpy(slot, data, len); // the addon copies into its transmit slots too
	out->tiov[out->tcount].iov_base = slot;
	out->tiov[out->tcount].iov_len = len;
	out->tcount++;
	out->dirty = 1;
}

static void flush_all(void) {
	for (int i = 0; i < nports; i++)
		if (ports[i].dirty) udp_flush(&ports[i]);
}

// ---- one packet --------------------------------------------------------------

static void relay(port_t *in, uint8_t *pkt, uint32_t len) {
	if (len < 40 || (pkt[0] >> 4) != 6) return;
	int o = lookup(pkt + 24);
	if (o < 0) {
		no_route++;
		return;
	}
	port_t *out = &ports[o];
	if (out == in) return;
	if (!in->tun && !out->tun) {
		if (pkt[7] <= 1) {
			hop_limit++;
			return;
		}
		pkt[7]--;
	}
	send_to(out, pkt, len);
}

static int udp_batch(port_t *p) {
	for (int i = 0; i < BATCH; i++) {
		p->rmsg[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_in6);
		p->rmsg[i].msg_hdr.msg_flags = 0;
	}
	int r;
	do r = recvmmsg(p->fd, p->rmsg, BATCH, MSG_DONTWAIT, NULL);
	while (r < 0 && errno == EINTR);
	if (r <= 0) return 0;
	for (int i = 0; i < r; i++) {
		const struct sockaddr_in6 *from = &p->rname[i];
		if (from->sin6_port != p->peer.sin6_port || memcmp(&from->sin6_addr, &p->peer.sin6_addr, 16) != 0 || (p->rmsg[i].msg_hdr.msg_flags & MSG_TRUNC)) {
			p->foreign++;
			continue;
		}
		p->rx_packets++;
		relay(p, p->riov[i].iov_base, p->rmsg[i].msg_len);
	}
	return r;
}

static int tun_batch(port_t *p) {
	int n = 0;
	while (n < BATCH) {
		ssize_t r = read(p->fd, p->rx, TUN_MAX_READ);
		if (r < 0) {
			if (errno == EINTR) continue;
			break;
		}
		n++;
		p->rx_packets++;
		relay(p, p->rx, (uint32_t)r);
	}
	return n;
}

int main(int argc, char **argv) {
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--tun") == 0 && i + 1 < argc) open_tun(argv[++i]);
		else if (strcmp(argv[i], "--link") == 0 && i + 4 < argc) {
			open_link(argv[i + 1], argv[i + 2], argv[i + 3], atoi(argv[i + 4]));
			i += 4;
		} else if (strcmp(argv[i], "--route") == 0 && i + 2 < argc) {
			add_route(argv[i + 1], argv[i + 2]);
			i += 2;
		} else if (strcmp(argv[i], "--no-gso") == 0) gso = 0;
		else {
			fprintf(stderr, "usage: c_relay [--tun NAME] [--link NAME LOCAL PEER PORT]... [--route PREFIX/LEN TARGET]... [--no-gso]\n");
			return 2;
		}
		if (nports >= MAX_PORTS || nroutes >= MAX_ROUTES) {
			fprintf(stderr, "c_relay: too many ports or routes\n");
			return 2;
		}
	}
	int ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0) die("epoll_create1");
	for (int i = 0; i < nports; i++) {
		struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
		if (epoll_ctl(ep, EPOLL_CTL_ADD, ports[i].fd, &ev) < 0) die("epoll_ctl");
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	printf("{\"mode\":\"ready\"}\n");
	fflush(stdout);
	struct epoll_event evs[MAX_PORTS];
	while (!stop) {
		int n = epoll_wait(ep, evs, MAX_PORTS, -1);
		if (n < 0) {
			if (errno == EINTR) continue;
			die("epoll_wait");
		}
		for (int e = 0; e < n; e++) {
			port_t *p = &ports[evs[e].data.u32];
			for (int round = 0; round < ROUNDS_PER_WAKE; round++) {
				int got = p->tun ? tun_batch(p) : udp_batch(p);
				flush_all(); // as the addon: what a batch sends leaves when the batch is done
				if (got < BATCH) break;
			}
		}
	}
	double rx = 0, tx = 0, drops = 0, calls = 0, foreign = 0;
	for (int i = 0; i < nports; i++) {
		rx += ports[i].rx_packets;
		tx += ports[i].tx_packets;
		drops += ports[i].tx_drops;
		calls += ports[i].tx_syscalls;
		foreign += ports[i].foreign;
	}
	printf("{\"mode\":\"c-relay\",\"rx\":%.0f,\"tx\":%.0f,\"txDrops\":%.0f,\"txSyscalls\":%.0f,\"foreign\":%.0f,\"noRoute\":%.0f,\"hopLimit\":%.0f}\n", rx, tx, drops, calls,
	       foreign, no_route, hop_limit);
	return 0;
}
