// What the benchmark's C tools share (bench/native/*.c): a monotonic clock,
// dying with errno's message, and a UDP endpoint from text. Define TOOL_NAME
// before including it: die() names the tool.
#ifndef ANYGUARD_BENCH_COMMON_H
#define ANYGUARD_BENCH_COMMON_H

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what) {
	fprintf(stderr, TOOL_NAME ": %s: %s\n", what, strerror(errno));
	exit(1);
}

/** An IPv6 address (with an optional %zone, RFC 4007 §11) and a port, as a socket address. */
static void endpoint(const char *text, const char *port, struct sockaddr_in6 *out) {
	char buf[128];
	snprintf(buf, sizeof buf, "%s", text);
	memset(out, 0, sizeof *out);
	out->sin6_family = AF_INET6;
	out->sin6_port = htons((uint16_t)atoi(port));
	char *zone = strchr(buf, '%');
	if (zone) {
		*zone++ = 0;
		out->sin6_scope_id = if_nametoindex(zone);
		if (!out->sin6_scope_id) die(zone);
	}
	if (inet_pton(AF_INET6, buf, &out->sin6_addr) != 1) {
		errno = EINVAL;
		die(text);
	}
}

#endif
