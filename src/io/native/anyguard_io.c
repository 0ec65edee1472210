// anyguard_io: packet I/O for one process in the event loop, without a thread.
//
// Two port kinds share one shape: a TUN device attached by name (tun.c
// logic below) and a UDP socket carrying one inner IPv6 packet per datagram.
// Each port is polled with uv_poll on its non-blocking fd. On readable, up to
// `batch` packets are drained into a receive area preallocated as a JS
// ArrayBuffer, their offsets and lengths are written into two shared
// Uint32Arrays, and one JS callback gets the count. Nothing is allocated per
// packet on either side. The area is reused by the next batch: the consumer
// must finish with (or copy) the packets before the callback returns.
//
// Counters live in a shared Float64Array that JS reads without a call.
// Writes never block: a send the kernel refuses with EAGAIN is dropped and
// counted (a router drops under overload; it does not queue).
//
// UDP sends made while any port's batch callback runs are queued per port and
// leave in one sendmmsg(2) per port when the outermost callback returns, so a
// forwarder pays one system call per batch instead of one per packet. Runs of
// equal-sized datagrams in a batch leave as one UDP GSO message each
// (UDP_SEGMENT, udp(7)): the kernel's send path, the veth and the peer's IP
// layer then handle one buffer per run instead of one per datagram, and the
// peer's UDP layer splits it back into the same datagrams before its socket.
#define _GNU_SOURCE
#include <node_api.h>
#include <uv.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "hmac.h"
#include "napi_view.h"

#ifndef SO_RXQ_OVFL
#define SO_RXQ_OVFL 40
#endif
#ifndef SOL_UDP
#define SOL_UDP 17
#endif
#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
// Segments per GSO message (the kernel's UDP_MAX_SEGMENTS is at least 64) and
// payload bytes per message (an IPv6 payload is at most 65535, less the UDP header).
#define GSO_MAX_SEGS 64
#define GSO_MAX_BYTES 65000

// Counter slots in the shared Float64Array; src/io/native.ts mirrors this list.
enum {
	C_RX_PACKETS,
	C_RX_BYTES,
	C_RX_BATCHES,
	C_RX_ERRORS,
	C_RX_TRUNCATED,
	C_RX_FOREIGN,
	C_RX_KERNEL_DROPS,
	C_TX_PACKETS,
	C_TX_BYTES,
	C_TX_DROPS,
	C_TX_ERRORS,
	C_TX_SYSCALLS,
	C_COUNT
};

enum { KIND_TUN = 1, KIND_UDP = 2 };

// Largest packet a TUN read may return: the device MTU is at most 65535 and
// IFF_NO_PI adds no header. A read into a shorter buffer would lose the tail
// silently (tun_put_user returns the full length), so every read is offered this much.
#define TUN_MAX_READ 65536
#define MAX_BATCH 1024

typedef struct port port_t;
struct port {
	int kind;
	int fd;
	napi_env env;
	napi_ref self; // strong while open, so an open port is never collected
	napi_ref callback;
	napi_ref rx_ab, off_ab, len_ab, ctr_ab;
	napi_async_context async;
	uv_poll_t poll;
	int polling;
	int closed;
	int handle_closed;
	int finalized;
	uint32_t batch;
	uint8_t *rx;
	size_t rx_cap;
	uint32_t *offs, *lens;
	double *ctr;
	int mtu;
	unsigned ifindex;
	// UDP only
	uint32_t slot; // bytes per receive or transmit slot: the largest datagram
	struct sockaddr_in6 peer;
	struct mmsghdr *rmsg;
	struct iovec *riov;
	struct sockaddr_in6 *rname;
	uint8_t *rctl;
	size_t rctl_len;
	struct mmsghdr *tmsg;
	struct iovec *tiov;
	uint8_t *tx;
	uint32_t tcount;
	// UDP GSO: on until the kernel refuses it; one message per run of equal-sized datagrams.
	int gso;
	struct mmsghdr *gmsg;
	uint8_t *gctl;
	uint32_t *gsegs;
	port_t *next_dirty;
	int dirty;
};

// Sends are deferred only inside a batch callback; each env runs on one thread.
static _Thread_local int depth;
static _Thread_local port_t *dirty_head;

#define CHECK(call)                                                                  \
	do {                                                                             \
		if ((call) != napi_ok) {                                                     \
			napi_throw_error(env, "ERR_ANYGUARD_IO", "N-API call failed: " #call); \
			return NULL;                                                             \
		}                                                                            \
	} while (0)

static const char *errno_code(int e) {
	switch (e) {
	case ENOENT: return "ENOENT";
	case ENODEV: return "ENODEV";
	case EPERM: return "EPERM";
	case EACCES: return "EACCES";
	case EBUSY: return "EBUSY";
	case EINVAL: return "EINVAL";
	case EADDRINUSE: return "EADDRINUSE";
	case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
	case EMFILE: return "EMFILE";
	case ENFILE: return "ENFILE";
	case ENOMEM: return "ENOMEM";
	case EBADFD: return "EBADFD";
	case EBADF: return "EBADF";
	case EIO: return "EIO";
	default: return "ESYSTEM";
	}
}

// Throws an Error whose `code` is the errno name and `errno` the number; the
// TS layer turns it into an IoError.
static void throw_errno(napi_env env, int e, const char *what) {
	char msg[256];
	snprintf(msg, sizeof msg, "%s: %s", what, strerror(e));
	napi_value code, text, err, num;
	napi_create_string_utf8(env, errno_code(e), NAPI_AUTO_LENGTH, &code);
	napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &text);
	napi_create_error(env, code, text, &err);
	napi_create_int32(env, e, &num);
	napi_set_named_property(env, err, "errno", num);
	napi_throw(env, err);
}

static void free_port(port_t *p) {
	free(p->rmsg);
	free(p->riov);
	free(p->rname);
	free(p->rctl);
	free(p->tmsg);
	free(p->tiov);
	free(p->tx);
	free(p->gmsg);
	free(p->gctl);
	free(p->gsegs);
	free(p);
}

static void on_handle_closed(uv_handle_t *h) {
	port_t *p = h->data;
	p->handle_closed = 1;
	if (p->finalized) free_port(p);
}

static void unlink_dirty(port_t *p) {
	if (!p->dirty) return;
	for (port_t **pp = &dirty_head; *pp; pp = &(*pp)->next_dirty)
		if (*pp == p) {
			*pp = p->next_dirty;
			break;
		}
	p->dirty = 0;
	p->tcount = 0;
}

// Stops polling and closes the fd at once, so the device can be attached
// again right away; uv_poll_stop has already removed the fd from epoll, which
// uv_poll(3) requires before the fd is closed. Safe to call twice.
static void shutdown_port(port_t *p) {
	if (p->closed) return;
	p->closed = 1;
	unlink_dirty(p);
	if (p->polling) uv_poll_stop(&p->poll);
	p->polling = 0;
	uv_close((uv_handle_t *)&p->poll, on_handle_closed);
	close(p->fd);
	p->fd = -1;
}

static void release_refs(napi_env env, port_t *p);

static void finalize(napi_env env, void *data, void *hint) {
	(void)hint;
	port_t *p = data;
	shutdown_port(p);
	release_refs(env, p);
	p->finalized = 1;
	if (p->handle_closed) free_port(p);
}

// ---- transmit -------------------------------------------------------------

// Sends messages [from, n) of p->tmsg with sendmmsg(2), one datagram each.
// EAGAIN drops the rest (counted); any other error drops only the message it
// names and goes on.
static void udp_send_plain(port_t *p, uint32_t i, uint32_t n) {
	while (i < n) {
		int r = sendmmsg(p->fd, p->tmsg + i, n - i, MSG_DONTWAIT);
		p->ctr[C_TX_SYSCALLS]++;
		if (r > 0) {
			for (int k = 0; k < r; k++) p->ctr[C_TX_BYTES] += p->tmsg[i + k].msg_len;
			p->ctr[C_TX_PACKETS] += r;
			i += r;
		} else if (r < 0 && errno == EINTR) {
			continue;
		} else if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) {
			p->ctr[C_TX_DROPS] += n - i;
			break;
		} else {
			p->ctr[C_TX_ERRORS]++;
			i++;
		}
	}
}

// Groups datagrams [i, n) of p->tiov into GSO messages in p->gmsg: a run of
// datagrams of one size (at most the link MTU, so the kernel never refuses the
// size), the last of a run possibly shorter. Returns the message count and
// sets *end to the first datagram not grouped.
static uint32_t udp_gso_group(port_t *p, uint32_t i, uint32_t n, uint32_t *end) {
	uint32_t m = 0;
	while (i < n && m < p->batch) {
		size_t size = p->tiov[i].iov_len;
		uint32_t k = i + 1;
		if (size > 0 && size <= (size_t)p->mtu) {
			size_t total = size;
			while (k < n && k - i < GSO_MAX_SEGS && p->tiov[k].iov_len > 0 && p->tiov[k].iov_len <= size && total + p->tiov[k].iov_len <= GSO_MAX_BYTES) {
				total += p->tiov[k].iov_len;
				if (p->tiov[k++].iov_len < size) break; // only the last segment may be short
			}
		}
		struct msghdr *h = &p->gmsg[m].msg_hdr;
		h->msg_name = &p->peer;
		h->msg_namelen = sizeof p->peer;
		h->msg_iov = &p->tiov[i];
		h->msg_iovlen = k - i;
		h->msg_flags = 0;
		if (k - i > 1) {
			uint8_t *ctl = p->gctl + (size_t)m * CMSG_SPACE(sizeof(uint16_t));
			h->msg_control = ctl;
			h->msg_controllen = CMSG_SPACE(sizeof(uint16_t));
			struct cmsghdr *c = CMSG_FIRSTHDR(h);
			c->cmsg_level = SOL_UDP;
			c->cmsg_type = UDP_SEGMENT;
			c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
			uint16_t seg = (uint16_t)size;
			memcpy(CMSG_DATA(c), &seg, sizeof seg);
		} else {
			h->msg_control = NULL;
			h->msg_controllen = 0;
		}
		p->gsegs[m++] = k - i;
		i = k;
	}
	*end = i;
	return m;
}

// Sends datagrams [0, n) of p->tiov (p->tmsg[i] names tiov[i]). With GSO,
// each run of equal-sized datagrams is one message; a kernel or device that
// refuses GSO (EIO, EINVAL, ENOPROTOOPT) turns it off for the port and the
// datagrams go one per message, with the same counting as ever.
static void udp_send_msgs(port_t *p, uint32_t n) {
	uint32_t i = 0;
	while (i < n && p->gso) {
		uint32_t end;
		uint32_t m = udp_gso_group(p, i, n, &end);
		uint32_t s = 0;
		while (s < m) {
			int r = sendmmsg(p->fd, p->gmsg + s, m - s, MSG_DONTWAIT);
			p->ctr[C_TX_SYSCALLS]++;
			if (r > 0) {
				for (int q = 0; q < r; q++) {
					p->ctr[C_TX_BYTES] += p->gmsg[s + q].msg_len;
					p->ctr[C_TX_PACKETS] += p->gsegs[s + q];
					i += p->gsegs[s + q];
				}
				s += r;
			} else if (r < 0 && errno == EINTR) {
				continue;
			} else if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) {
				p->ctr[C_TX_DROPS] += n - i;
				return;
			} else if (p->gsegs[s] > 1 && (errno == EIO || errno == EINVAL || errno == ENOPROTOOPT || errno == EOPNOTSUPP)) {
				p->gso = 0; // no GSO here: the rest leave one by one
				break;
			} else {
				// A single datagram the kernel refused (EMSGSIZE, …): only it is dropped.
				p->ctr[C_TX_ERRORS] += p->gsegs[s];
				i += p->gsegs[s];
				s++;
			}
		}
	}
	if (i < n) udp_send_plain(p, i, n);
}

static void udp_flush(port_t *p) {
	uint32_t n = p->tcount;
	p->tcount = 0;
	if (n > 0 && !p->closed) udp_send_msgs(p, n);
}

static void flush_dirty(void) {
	while (dirty_head) {
		port_t *p = dirty_head;
		dirty_head = p->next_dirty;
		p->dirty = 0;
		udp_flush(p);
	}
}

// Outside a batch callback the packet leaves at once and the result is known;
// inside one it is queued, and a later EAGAIN shows only in the counters.
static int udp_queue(port_t *p, const uint8_t *data, uint32_t len) {
	if (p->tcount == p->batch) udp_flush(p);
	uint32_t i = p->tcount++;
	uint8_t *slot = p->tx + (size_t)i * p->slot;
	memcpy(slot, data, len);
	p->tiov[i].iov_base = slot;
	p->tiov[i].iov_len = len;
	if (depth == 0) {
		double before = p->ctr[C_TX_PACKETS];
		udp_flush(p);
		return p->ctr[C_TX_PACKETS] > before;
	}
	if (!p->dirty) {
		p->dirty = 1;
		p->next_dirty = dirty_head;
		dirty_head = p;
	}
	return 1;
}

// Returns 1 when the packet was handed to the kernel (TUN) or queued (UDP).
static int port_send(port_t *p, const uint8_t *data, uint32_t len) {
	if (p->closed) return 0;
	if (p->kind == KIND_UDP) {
		if (len > p->slot) {
			p->ctr[C_TX_ERRORS]++;
			return 0;
		}
		return udp_queue(p, data, len);
	}
	for (;;) {
		ssize_t r = write(p->fd, data, len);
		p->ctr[C_TX_SYSCALLS]++;
		if (r >= 0) {
			p->ctr[C_TX_PACKETS]++;
			p->ctr[C_TX_BYTES] += (double)r;
			return 1;
		}
		if (errno == EINTR) continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) p->ctr[C_TX_DROPS]++;
		else p->ctr[C_TX_ERRORS]++;
		return 0;
	}
}

// ---- receive --------------------------------------------------------------

// Returns the packets read (>= 0), or -errno when the port cannot go on.
static int tun_read_batch(port_t *p) {
	size_t pos = 0;
	uint32_t n = 0;
	while (n < p->batch && p->rx_cap - pos >= TUN_MAX_READ) {
		ssize_t r = read(p->fd, p->rx + pos, TUN_MAX_READ);
		if (r < 0) {
			if (errno == EINTR) continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) break;
			p->ctr[C_RX_ERRORS]++;
			// EBADFD: the device was deleted under us (tun_chr_read_iter).
			if (errno == EBADFD || errno == EBADF || errno == EFAULT || errno == EINVAL || errno == EIO) return -errno;
			break;
		}
		p->offs[n] = (uint32_t)pos;
		p->lens[n] = (uint32_t)r;
		p->ctr[C_RX_BYTES] += (double)r;
		pos += ((size_t)r + 7) & ~(size_t)7; // keep each packet 8-byte aligned
		n++;
	}
	p->ctr[C_RX_PACKETS] += n;
	return (int)n;
}

static int udp_read_batch(port_t *p) {
	for (uint32_t i = 0; i < p->batch; i++) {
		struct msghdr *h = &p->rmsg[i].msg_hdr;
		h->msg_namelen = sizeof(struct sockaddr_in6);
		h->msg_controllen = p->rctl_len;
		h->msg_flags = 0;
	}
	int r;
	do r = recvmmsg(p->fd, p->rmsg, p->batch, MSG_DONTWAIT, NULL);
	while (r < 0 && errno == EINTR);
	if (r < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
		p->ctr[C_RX_ERRORS]++;
		if (errno == EBADF || errno == ENOTSOCK || errno == EFAULT || errno == EINVAL) return -errno;
		return 0;
	}
	uint32_t n = 0;
	for (int i = 0; i < r; i++) {
		struct mmsghdr *m = &p->rmsg[i];
		// socket(7) SO_RXQ_OVFL: the kernel's count of datagrams dropped for a full receive buffer.
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&m->msg_hdr); c; c = CMSG_NXTHDR(&m->msg_hdr, c))
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL) {
				uint32_t drops;
				memcpy(&drops, CMSG_DATA(c), sizeof drops);
				p->ctr[C_RX_KERNEL_DROPS] = drops;
			}
		if (m->msg_hdr.msg_flags & MSG_TRUNC) {
			p->ctr[C_RX_TRUNCATED]++;
			continue;
		}
		const struct sockaddr_in6 *from = &p->rname[i];
		if (from->sin6_family != AF_INET6 || from->sin6_port != p->peer.sin6_port ||
		    memcmp(&from->sin6_addr, &p->peer.sin6_addr, sizeof(struct in6_addr)) != 0) {
			p->ctr[C_RX_FOREIGN]++;
			continue;
		}
		p->offs[n] = (uint32_t)i * p->slot;
		p->lens[n] = m->msg_len;
		p->ctr[C_RX_BYTES] += m->msg_len;
		n++;
	}
	p->ctr[C_RX_PACKETS] += n;
	return (int)n;
}

// Calls the JS callback with `count` (a batch) or a negative errno (the port
// stopped). An exception thrown by the callback becomes an uncaught exception.
static void deliver(port_t *p, int count) {
	napi_env env = p->env;
	napi_handle_scope scope;
	if (napi_open_handle_scope(env, &scope) != napi_ok) return;
	napi_value cb, recv, arg;
	if (napi_get_reference_value(env, p->callback, &cb) == napi_ok && napi_get_reference_value(env, p->self, &recv) == napi_ok && recv != NULL &&
	    napi_create_int32(env, count, &arg) == napi_ok) {
		depth++;
		napi_status s = napi_make_callback(env, p->async, recv, cb, 1, &arg, NULL);
		depth--;
		if (depth == 0) flush_dirty();
		if (s == napi_pending_exception) {
			napi_value exc;
			napi_get_and_clear_last_exception(env, &exc);
			napi_fatal_exception(env, exc);
		}
	}
	napi_close_handle_scope(env, scope);
}

// A few batches per wakeup amortise the epoll round trip; the cap keeps one
// busy port from starving the others and the timers.
#define ROUNDS_PER_WAKE 4

static void on_poll(uv_poll_t *h, int status, int events) {
	(void)events;
	port_t *p = h->data;
	if (p->closed) return;
	if (status < 0) {
		// libuv reports POLLERR as UV_EBADF; a TUN whose device was deleted polls as an error.
		p->ctr[C_RX_ERRORS]++;
		uv_poll_stop(&p->poll);
		p->polling = 0;
		deliver(p, status == UV_EBADF ? -EBADFD : status);
		return;
	}
	for (int round = 0; round < ROUNDS_PER_WAKE && !p->closed; round++) {
		int n = p->kind == KIND_TUN ? tun_read_batch(p) : udp_read_batch(p);
		if (n < 0) {
			uv_poll_stop(&p->poll);
			p->polling = 0;
			deliver(p, n);
			return;
		}
		if (n > 0) {
			p->ctr[C_RX_BATCHES]++;
			deliver(p, n);
		}
		if ((uint32_t)n < p->batch) break; // drained (or the area is full): wait for the next wakeup
	}
}

// ---- construction ----------------------------------------------------------

static napi_value make_ab(napi_env env, size_t len, void **data, napi_ref *ref) {
	napi_value ab;
	if (napi_create_arraybuffer(env, len, data, &ab) != napi_ok) return NULL;
	if (napi_create_reference(env, ab, 1, ref) != napi_ok) return NULL;
	return ab;
}

static int device_mtu(const char *name, int *mtu) {
	int s = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0) return -1;
	struct ifreq ifr;
	memset(&ifr, 0, sizeof ifr);
	strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
	int r = ioctl(s, SIOCGIFMTU, &ifr);
	int e = errno;
	close(s);
	if (r < 0) {
		errno = e;
		return -1;
	}
	*mtu = ifr.ifr_mtu;
	return 0;
}

static void release_refs(napi_env env, port_t *p) {
	napi_ref *refs[] = {&p->callback, &p->rx_ab, &p->off_ab, &p->len_ab, &p->ctr_ab, &p->self};
	for (size_t i = 0; i < sizeof refs / sizeof refs[0]; i++)
		if (*refs[i]) {
			napi_delete_reference(env, *refs[i]);
			*refs[i] = NULL;
		}
	if (p->async) napi_async_destroy(env, p->async);
	p->async = NULL;
}

// Shared tail of both constructors: buffers, properties, poll, wrap. On
// failure it releases everything, `p` and its fd included, and returns NULL
// with an exception pending.
static napi_value finish_port(napi_env env, napi_value self, port_t *p, napi_value callback, const char *resource) {
	void *data;
	uv_loop_t *loop;
	napi_value rx = make_ab(env, p->rx_cap, &data, &p->rx_ab);
	p->rx = data;
	napi_value offs = make_ab(env, p->batch * sizeof(uint32_t), &data, &p->off_ab);
	p->offs = data;
	napi_value lens = make_ab(env, p->batch * sizeof(uint32_t), &data, &p->len_ab);
	p->lens = data;
	napi_value ctr = make_ab(env, C_COUNT * sizeof(double), &data, &p->ctr_ab);
	p->ctr = data;
	napi_value mtu, ifindex, name;
	if (!rx || !offs || !lens || !ctr) goto fail;
	memset(p->ctr, 0, C_COUNT * sizeof(double));
	if (napi_create_int32(env, p->mtu, &mtu) || napi_create_uint32(env, p->ifindex, &ifindex)) goto fail;
	napi_property_descriptor props[] = {
		{"rx", NULL, NULL, NULL, NULL, rx, napi_enumerable, NULL},
		{"offsets", NULL, NULL, NULL, NULL, offs, napi_enumerable, NULL},
		{"lengths", NULL, NULL, NULL, NULL, lens, napi_enumerable, NULL},
		{"counters", NULL, NULL, NULL, NULL, ctr, napi_enumerable, NULL},
		{"mtu", NULL, NULL, NULL, NULL, mtu, napi_enumerable, NULL},
		{"ifindex", NULL, NULL, NULL, NULL, ifindex, napi_enumerable, NULL},
	};
	if (napi_define_properties(env, self, sizeof props / sizeof props[0], props) || napi_create_reference(env, callback, 1, &p->callback) ||
	    napi_create_string_utf8(env, resource, NAPI_AUTO_LENGTH, &name) || napi_async_init(env, self, name, &p->async) ||
	    napi_get_uv_event_loop(env, &loop))
		goto fail;
	p->poll.data = p;
	int r = uv_poll_init(loop, &p->poll, p->fd);
	if (r != 0) {
		throw_errno(env, -r, "uv_poll_init");
		goto fail_quiet;
	}
	// From here the handle is in the loop: it must go through uv_close.
	r = uv_poll_start(&p->poll, UV_READABLE, on_poll);
	if (r == 0) p->polling = 1;
	if (r != 0 || napi_wrap(env, self, p, finalize, NULL, NULL) != napi_ok) {
		if (r != 0) throw_errno(env, -r, "uv_poll_start");
		else napi_throw_error(env, "ESYSTEM", "napi_wrap failed");
		release_refs(env, p);
		p->finalized = 1;
		shutdown_port(p); // frees p once libuv has closed the handle
		return NULL;
	}
	if (napi_create_reference(env, self, 1, &p->self) != napi_ok) {
		napi_throw_error(env, "ESYSTEM", "napi_create_reference failed");
		return NULL; // wrapped: the finalizer releases it
	}
	return self;
fail:
	napi_throw_error(env, "ENOMEM", "cannot set up the port");
fail_quiet:
	release_refs(env, p);
	if (p->fd >= 0) close(p->fd);
	free_port(p);
	return NULL;
}

static int get_string(napi_env env, napi_value v, char *out, size_t cap) {
	size_t len;
	if (napi_get_value_string_utf8(env, v, out, cap, &len) != napi_ok) return -1;
	return len < cap - 1 ? 0 : -1;
}

static port_t *new_port(int kind, uint32_t batch) {
	port_t *p = calloc(1, sizeof *p);
	if (!p) return NULL;
	p->kind = kind;
	p->fd = -1;
	p->batch = batch;
	return p;
}

// Attaches fd to the existing persistent TUN `name` in the calling thread's
// network namespace; its ifindex and MTU too. Returns 0 or an errno.
static int tun_attach(const char *name, int *out_fd, unsigned *ifindex, int *mtu) {
	// TUNSETIFF would create a new device when the name is free; check first
	// so that only an existing (persistent) device is ever attached.
	*ifindex = if_nametoindex(name);
	if (*ifindex == 0) return ENODEV;
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) return errno;
	struct ifreq ifr;
	memset(&ifr, 0, sizeof ifr);
	memcpy(ifr.ifr_name, name, strlen(name)); // at most IFNAMSIZ - 1 bytes, checked by the caller
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI; // Documentation/networking/tuntap.rst
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		int e = errno;
		close(fd);
		return e;
	}
	if (device_mtu(name, mtu) < 0) *mtu = 1500;
	*out_fd = fd;
	return 0;
}

// tun_attach inside the network namespace at `netns` (a /run/netns/NAME
// file): the thread enters it with setns(2), attaches, and returns to its own
// namespace before anything else runs. The descriptor stays bound to the
// device there (a TUN's fd does not care which namespace its opener is in):
// this process then carries another namespace's interface as one of its
// ports. Needs CAP_SYS_ADMIN (setns) and CAP_NET_ADMIN there.
static int tun_attach_in(const char *netns, const char *name, int *out_fd, unsigned *ifindex, int *mtu, const char **what) {
	int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0) {
		*what = "open /proc/thread-self/ns/net";
		return errno;
	}
	int target = open(netns, O_RDONLY | O_CLOEXEC);
	if (target < 0) {
		int e = errno;
		close(self);
		*what = "open the network namespace";
		return e;
	}
	if (setns(target, CLONE_NEWNET) < 0) {
		int e = errno;
		close(target);
		close(self);
		*what = "setns into the network namespace";
		return e;
	}
	close(target);
	int e = tun_attach(name, out_fd, ifindex, mtu);
	*what = e == ENODEV ? "no such network device" : "TUNSETIFF";
	if (setns(self, CLONE_NEWNET) < 0) {
		// Stuck in the other namespace: nothing this process opens from now on would be where it thinks.
		fprintf(stderr, "anyguard_io: cannot return to the process's own network namespace: %s\n", strerror(errno));
		abort();
	}
	close(self);
	return e;
}

// new Tun(name, batch, callback[, netns]): attaches to an existing persistent
// TUN, in this process's network namespace or in the one at path `netns`.
static napi_value tun_new(napi_env env, napi_callback_info info) {
	size_t argc = 4;
	napi_value argv[4], self;
	CHECK(napi_get_cb_info(env, info, &argc, argv, &self, NULL));
	char name[IFNAMSIZ + 8];
	char netns[256];
	uint32_t batch;
	if (argc < 3 || get_string(env, argv[0], name, IFNAMSIZ + 1) != 0 || napi_get_value_uint32(env, argv[1], &batch) != napi_ok || batch == 0 || batch > MAX_BATCH) {
		napi_throw_type_error(env, "EINVAL", "Tun(name, batch, callback[, netns]): bad arguments");
		return NULL;
	}
	napi_valuetype t4 = napi_undefined;
	if (argc >= 4) CHECK(napi_typeof(env, argv[3], &t4));
	bool other = t4 == napi_string;
	if (other && get_string(env, argv[3], netns, sizeof netns) != 0) {
		napi_throw_type_error(env, "EINVAL", "Tun: netns path too long");
		return NULL;
	}
	int fd = -1, mtu = 1500;
	unsigned ifindex = 0;
	const char *what = "TUNSETIFF";
	int e = other ? tun_attach_in(netns, name, &fd, &ifindex, &mtu, &what) : tun_attach(name, &fd, &ifindex, &mtu);
	if (e != 0) {
		if (!other) what = e == ENODEV ? "no such network device" : "TUNSETIFF";
		throw_errno(env, e, what);
		return NULL;
	}
	port_t *p = new_port(KIND_TUN, batch);
	if (!p) {
		close(fd);
		napi_throw_error(env, "ENOMEM", "out of memory");
		return NULL;
	}
	p->env = env;
	p->fd = fd;
	p->ifindex = ifindex;
	p->mtu = mtu;
	p->rx_cap = (size_t)batch * 2048 + TUN_MAX_READ;
	return finish_port(env, self, p, argv[2], "anyguard:tun");
}

static int parse_addr(const char *text, unsigned ifindex, uint16_t port, struct sockaddr_in6 *out) {
	memset(out, 0, sizeof *out);
	out->sin6_family = AF_INET6;
	out->sin6_port = htons(port);
	if (inet_pton(AF_INET6, text, &out->sin6_addr) != 1) return -1;
	if (IN6_IS_ADDR_LINKLOCAL(&out->sin6_addr)) out->sin6_scope_id = ifindex; // RFC 4007 §6: zone needed
	return 0;
}

// new Udp(localAddr, ifname, localPort, peerAddr, peerPort, batch, slot, bufBytes, callback[, gso])
// slot: bytes per datagram slot (0: from the MTU of ifname); bufBytes: SO_RCVBUF
// and SO_SNDBUF (0: the system default); gso: send runs of equal-sized
// datagrams as one UDP GSO message (default true).
static napi_value udp_new(napi_env env, napi_callback_info info) {
	size_t argc = 10;
	napi_value argv[10], self;
	CHECK(napi_get_cb_info(env, info, &argc, argv, &self, NULL));
	char local[64], ifname[IFNAMSIZ + 8], peer[64];
	uint32_t lport, pport, batch, slot, bufbytes;
	if (argc < 9 || get_string(env, argv[0], local, sizeof local) || get_string(env, argv[1], ifname, IFNAMSIZ + 1) || napi_get_value_uint32(env, argv[2], &lport) ||
	    get_string(env, argv[3], peer, sizeof peer) || napi_get_value_uint32(env, argv[4], &pport) || napi_get_value_uint32(env, argv[5], &batch) ||
	    napi_get_value_uint32(env, argv[6], &slot) || napi_get_value_uint32(env, argv[7], &bufbytes) || lport > 65535 || pport == 0 || pport > 65535 || batch == 0 ||
	    batch > MAX_BATCH || (slot != 0 && slot < 64) || slot > 65535) {
		napi_throw_type_error(env, "EINVAL", "Udp(local, ifname, port, peer, peerPort, batch, slot, bufBytes, callback): bad arguments");
		return NULL;
	}
	bool gso = true;
	if (argc >= 10) {
		napi_valuetype t;
		if (napi_typeof(env, argv[9], &t) == napi_ok && t == napi_boolean) napi_get_value_bool(env, argv[9], &gso);
	}
	unsigned ifindex = 0;
	if (ifname[0]) {
		ifindex = if_nametoindex(ifname);
		if (ifindex == 0) {
			throw_errno(env, ENODEV, "no such network device");
			return NULL;
		}
	}
	struct sockaddr_in6 la;
	port_t *p = new_port(KIND_UDP, batch);
	if (!p) {
		napi_throw_error(env, "ENOMEM", "out of memory");
		return NULL;
	}
	if (parse_addr(local, ifindex, (uint16_t)lport, &la) || parse_addr(peer, ifindex, (uint16_t)pport, &p->peer)) {
		free_port(p);
		napi_throw_type_error(env, "EINVAL", "not an IPv6 address");
		return NULL;
	}
	int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		int e = errno;
		free_port(p);
		throw_errno(env, e, "socket");
		return NULL;
	}
	int one = 1;
	setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
	// ipv6(7) IPV6_DONTFRAG: an inner packet that does not fit the underlay is
	// an error (EMSGSIZE, counted) rather than silent fragmentation.
	setsockopt(fd, IPPROTO_IPV6, IPV6_DONTFRAG, &one, sizeof one);
	setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof one);
	if (bufbytes > 0) {
		// socket(7): the FORCE variants pass rmem_max/wmem_max with CAP_NET_ADMIN.
		int b = (int)bufbytes;
		if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &b, sizeof b) < 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &b, sizeof b);
		if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &b, sizeof b) < 0) setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &b, sizeof b);
	}
	if (bind(fd, (struct sockaddr *)&la, sizeof la) < 0) {
		int e = errno;
		close(fd);
		free_port(p);
		throw_errno(env, e, "bind");
		return NULL;
	}
	socklen_t sl = sizeof la;
	getsockname(fd, (struct sockaddr *)&la, &sl);
	p->env = env;
	p->fd = fd;
	p->ifindex = ifindex;
	p->mtu = 0;
	if (ifname[0] && device_mtu(ifname, &p->mtu) == 0) p->mtu -= 48; // IPv6 header 40 + UDP header 8
	// slot 0: fit the largest datagram the underlay MTU allows, at least 2048.
	if (slot == 0) slot = p->mtu > 2048 ? ((uint32_t)p->mtu + 63) & ~63u : 2048;
	if (slot > 65535) slot = 65535;
	p->slot = slot;
	if (p->mtu <= 0 || (uint32_t)p->mtu > slot) p->mtu = (int)slot;
	p->rx_cap = (size_t)batch * slot;
	p->rctl_len = CMSG_SPACE(sizeof(uint32_t));
	p->rmsg = calloc(batch, sizeof *p->rmsg);
	p->riov = calloc(batch, sizeof *p->riov);
	p->rname = calloc(batch, sizeof *p->rname);
	p->rctl = calloc(batch, p->rctl_len);
	p->tmsg = calloc(batch, sizeof *p->tmsg);
	p->tiov = calloc(batch, sizeof *p->tiov);
	p->tx = malloc((size_t)batch * slot);
	p->gmsg = calloc(batch, sizeof *p->gmsg);
	p->gctl = calloc(batch, CMSG_SPACE(sizeof(uint16_t)));
	p->gsegs = calloc(batch, sizeof *p->gsegs);
	p->gso = gso;
	if (!p->rmsg || !p->riov || !p->rname || !p->rctl || !p->tmsg || !p->tiov || !p->tx || !p->gmsg || !p->gctl || !p->gsegs) {
		close(fd);
		free_port(p);
		napi_throw_error(env, "ENOMEM", "out of memory");
		return NULL;
	}
	if (!finish_port(env, self, p, argv[8], "anyguard:udp")) return NULL;
	// The poll has started, but its first callback runs in a later loop turn.
	for (uint32_t i = 0; i < batch; i++) {
		p->riov[i].iov_base = p->rx + (size_t)i * slot;
		p->riov[i].iov_len = slot;
		struct msghdr *h = &p->rmsg[i].msg_hdr;
		h->msg_name = &p->rname[i];
		h->msg_iov = &p->riov[i];
		h->msg_iovlen = 1;
		h->msg_control = p->rctl + (size_t)i * p->rctl_len;
		struct msghdr *t = &p->tmsg[i].msg_hdr;
		t->msg_name = &p->peer;
		t->msg_namelen = sizeof p->peer;
		t->msg_iov = &p->tiov[i];
		t->msg_iovlen = 1;
	}
	napi_value port, slotv;
	CHECK(napi_create_uint32(env, ntohs(la.sin6_port), &port));
	CHECK(napi_set_named_property(env, self, "localPort", port));
	CHECK(napi_create_uint32(env, slot, &slotv));
	CHECK(napi_set_named_property(env, self, "slot", slotv));
	return self;
}

// ---- methods ---------------------------------------------------------------

static port_t *unwrap(napi_env env, napi_value self) {
	void *p = NULL;
	if (napi_unwrap(env, self, &p) != napi_ok || !p) {
		napi_throw_type_error(env, "EINVAL", "not a port");
		return NULL;
	}
	return p;
}

// send(buf: Uint8Array, off: number, len: number): boolean
static napi_value m_send(napi_env env, napi_callback_info info) {
	size_t argc = 3;
	napi_value argv[3], self, out;
	CHECK(napi_get_cb_info(env, info, &argc, argv, &self, NULL));
	port_t *p = unwrap(env, self);
	if (!p) return NULL;
	uint8_t *data;
	size_t size;
	uint32_t off, len;
	if (argc < 3 || u8_view(env, argv[0], &data, &size) || napi_get_value_uint32(env, argv[1], &off) || napi_get_value_uint32(env, argv[2], &len) ||
	    (size_t)off + len > size) {
		napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "send(buf, off, len): range outside the buffer");
		return NULL;
	}
	CHECK(napi_get_boolean(env, port_send(p, data + off, len), &out));
	return out;
}

// sendBatch(buf: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, count): number accepted.
// UDP: one sendmmsg(2) per `batch` packets, straight from `buf` (no copy).
static napi_value m_send_batch(napi_env env, napi_callback_info info) {
	size_t argc = 4;
	napi_value argv[4], self, out;
	CHECK(napi_get_cb_info(env, info, &argc, argv, &self, NULL));
	port_t *p = unwrap(env, self);
	if (!p) return NULL;
	uint8_t *data;
	size_t size, no, nl;
	uint32_t count;
	napi_typedarray_type to, tl;
	void *od, *ld;
	napi_value ab;
	size_t bo;
	if (argc < 4 || u8_view(env, argv[0], &data, &size) || napi_get_typedarray_info(env, argv[1], &to, &no, &od, &ab, &bo) ||
	    napi_get_typedarray_info(env, argv[2], &tl, &nl, &ld, &ab, &bo) || to != napi_uint32_array || tl != napi_uint32_array ||
	    napi_get_value_uint32(env, argv[3], &count) || count > no || count > nl) {
		napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "sendBatch(buf, offsets, lengths, count): bad arguments");
		return NULL;
	}
	const uint32_t *offs = od, *lens = ld;
	for (uint32_t i = 0; i < count; i++)
		if ((size_t)offs[i] + lens[i] > size) {
			napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "sendBatch: a packet lies outside the buffer");
			return NULL;
		}
	uint32_t accepted = 0;
	if (p->closed) {
		// nothing is sent after close
	} else if (p->kind == KIND_UDP) {
		udp_flush(p); // keep the queued packets ahead of these
		uint32_t i = 0;
		while (i < count) {
			uint32_t n = 0;
			for (; n < p->batch && i + n < count; n++) {
				uint32_t len = lens[i + n];
				if (len > p->slot) break;
				p->tiov[n].iov_base = data + offs[i + n];
				p->tiov[n].iov_len = len;
			}
			if (n == 0) {
				p->ctr[C_TX_ERRORS]++; // oversized
				i++;
				continue;
			}
			double before = p->ctr[C_TX_PACKETS];
			udp_send_msgs(p, n);
			accepted += (uint32_t)(p->ctr[C_TX_PACKETS] - before);
			i += n;
		}
	} else {
		for (uint32_t i = 0; i < count; i++) accepted += port_send(p, data + offs[i], lens[i]);
	}
	CHECK(napi_create_uint32(env, accepted, &out));
	return out;
}

// read(): one batch read now, into the shared area, without waiting for the
// poll: the count (>= 0), or -errno when the port cannot go on. The caller
// hands the batch to its handler itself. For a timer that must not act on a
// stale view while packets wait unread (BFD's detection, docs/pipeline.md).
static napi_value m_read(napi_env env, napi_callback_info info) {
	napi_value self, out;
	CHECK(napi_get_cb_info(env, info, NULL, NULL, &self, NULL));
	port_t *p = unwrap(env, self);
	if (!p) return NULL;
	int n = 0;
	if (!p->closed) {
		n = p->kind == KIND_TUN ? tun_read_batch(p) : udp_read_batch(p);
		if (n > 0) p->ctr[C_RX_BATCHES]++;
	}
	CHECK(napi_create_int32(env, n, &out));
	return out;
}

static napi_value m_close(napi_env env, napi_callback_info info) {
	napi_value self;
	CHECK(napi_get_cb_info(env, info, NULL, NULL, &self, NULL));
	port_t *p = unwrap(env, self);
	if (!p) return NULL;
	if (!p->closed) {
		if (p->kind == KIND_UDP) udp_flush(p); // queued packets leave before the socket closes
		shutdown_port(p);
		uint32_t rc;
		napi_reference_unref(env, p->self, &rc); // collectable from now on
	}
	return NULL;
}

static napi_value set_ref(napi_env env, napi_callback_info info, int ref) {
	napi_value self;
	CHECK(napi_get_cb_info(env, info, NULL, NULL, &self, NULL));
	port_t *p = unwrap(env, self);
	if (!p) return NULL;
	if (!p->closed) {
		if (ref) uv_ref((uv_handle_t *)&p->poll);
		else uv_unref((uv_handle_t *)&p->poll);
	}
	return NULL;
}

static napi_value m_ref(napi_env env, napi_callback_info info) { return set_ref(env, info, 1); }
static napi_value m_unref(napi_env env, napi_callback_info info) { return set_ref(env, info, 0); }

static napi_value define(napi_env env, napi_value exports, const char *name, napi_callback ctor) {
	napi_property_descriptor methods[] = {
		{"send", NULL, m_send, NULL, NULL, NULL, napi_default_method, NULL},
		{"sendBatch", NULL, m_send_batch, NULL, NULL, NULL, napi_default_method, NULL},
		{"close", NULL, m_close, NULL, NULL, NULL, napi_default_method, NULL},
		{"read", NULL, m_read, NULL, NULL, NULL, napi_default_method, NULL},
		{"ref", NULL, m_ref, NULL, NULL, NULL, napi_default_method, NULL},
		{"unref", NULL, m_unref, NULL, NULL, NULL, napi_default_method, NULL},
	};
	napi_value cls;
	CHECK(napi_define_class(env, name, NAPI_AUTO_LENGTH, ctor, NULL, sizeof methods / sizeof methods[0], methods, &cls));
	CHECK(napi_set_named_property(env, exports, name, cls));
	return exports;
}

/*
 * peerUid(fd): the user id of the process at the other end of the
 * Unix-domain socket fd (SO_PEERCRED, unix(7)), or -1 when it cannot be
 * told. The control socket serves capture and injection to its owner only.
 */
static napi_value peer_uid(napi_env env, napi_callback_info info) {
	size_t argc = 1;
	napi_value argv[1];
	CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	int32_t fd = -1;
	if (argc < 1 || napi_get_value_int32(env, argv[0], &fd) != napi_ok) fd = -1;
	struct ucred cred;
	socklen_t len = sizeof cred;
	int64_t uid = -1;
	if (fd >= 0 && getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 && len == sizeof cred) uid = cred.uid;
	napi_value out;
	CHECK(napi_create_int64(env, uid, &out));
	return out;
}

static napi_value init(napi_env env, napi_value exports) {
	if (!define(env, exports, "Tun", tun_new)) return NULL;
	if (!define(env, exports, "Udp", udp_new)) return NULL;
	napi_value fn;
	CHECK(napi_create_function(env, "peerUid", NAPI_AUTO_LENGTH, peer_uid, NULL, &fn));
	CHECK(napi_set_named_property(env, exports, "peerUid", fn));
	napi_value n;
	CHECK(napi_create_uint32(env, C_COUNT, &n));
	CHECK(napi_set_named_property(env, exports, "counterCount", n));
	if (hmac_define(env, exports) != 0) {
		napi_throw_error(env, "ERR_ANYGUARD_IO", "cannot define HmacKey");
		return NULL;
	}
	return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
