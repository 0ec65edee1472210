// HMAC-SHA256 of the identifier's signing input (docs/protocol.md §3), in C,
// with the OpenSSL that Node itself links.
//
// Node's own crypto binding costs about 2 µs a call (a new Hmac object, an
// EVP_MAC fetch, a Buffer for the digest); the hash over a response's ~190
// bytes costs about 0.3 µs. Here a key is set up once: the SHA-256 states
// after the key's ipad and opad blocks (RFC 2104 §2) and the domain
// separation context are computed at construction, so each tag costs a copy
// of two SHA256_CTX and the compression of the message itself.
//
// The signing input is never assembled: the pieces are hashed where they lie
// in the packet (context | option data up to the tag | source | final
// destination | next header | upper-layer length | upper layer). The offsets
// come in a Uint32Array shared with JS (`args`), so a call passes only the
// packet's buffer, and a batch of packets is one call.
//
// The SHA256_* functions are resolved with dlsym at load time, not linked:
// a Node whose OpenSSL does not export them (or whose result fails the
// RFC 4231 self-test below) gets no HmacKey class, and src/anycast/auth.ts
// falls back to node:crypto.
#define _GNU_SOURCE
#define OPENSSL_SUPPRESS_DEPRECATED
#include <node_api.h>
#include <openssl/sha.h>

#include <dlfcn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hmac.h"
#include "napi_view.h"

typedef int (*sha_init_fn)(SHA256_CTX *);
typedef int (*sha_update_fn)(SHA256_CTX *, const void *, size_t);
typedef int (*sha_final_fn)(unsigned char *, SHA256_CTX *);

static sha_init_fn sha_init;
static sha_update_fn sha_update;
static sha_final_fn sha_final;

// Per packet: the offsets of its pieces in the buffer, and a result slot.
enum { A_DATA, A_SRC, A_DST, A_PROTO, A_UPPER, A_UPPER_LEN, A_TAG_LEN, A_RESULT, A_COUNT };
#define HMAC_MAX_BATCH 256
#define BLOCK 64
#define CONTEXT_MAX 64
// Option data up to the tag (src/anycast/option.ts ID_FIXED_LEN).
#define FIXED_LEN 28

typedef struct {
	SHA256_CTX inner; // after (key ^ ipad) and the context
	SHA256_CTX outer; // after (key ^ opad)
	uint32_t *args;
	napi_ref args_ref;
	int refs; // the object and each of its method functions
} hmac_key_t;

static void hmac_prepare(hmac_key_t *k, const uint8_t *key, size_t key_len, const uint8_t *ctx, size_t ctx_len) {
	uint8_t block[BLOCK], pad[BLOCK];
	memset(block, 0, sizeof block);
	if (key_len > BLOCK) {
		SHA256_CTX c;
		sha_init(&c);
		sha_update(&c, key, key_len);
		sha_final(block, &c); // RFC 2104 §2: a longer key is hashed first
	} else {
		memcpy(block, key, key_len);
	}
	for (int i = 0; i < BLOCK; i++) pad[i] = block[i] ^ 0x36;
	sha_init(&k->inner);
	sha_update(&k->inner, pad, BLOCK);
	if (ctx_len) sha_update(&k->inner, ctx, ctx_len);
	for (int i = 0; i < BLOCK; i++) pad[i] = block[i] ^ 0x5c;
	sha_init(&k->outer);
	sha_update(&k->outer, pad, BLOCK);
	memset(block, 0, sizeof block);
	memset(pad, 0, sizeof pad);
}

// The full 32-byte MAC of the pieces `a` names in `buf`.
static void hmac_pieces(const hmac_key_t *k, const uint8_t *buf, const uint32_t *a, uint8_t mac[32]) {
	SHA256_CTX c = k->inner;
	uint8_t tail[5];
	tail[0] = (uint8_t)a[A_PROTO];
	tail[1] = (uint8_t)(a[A_UPPER_LEN] >> 24);
	tail[2] = (uint8_t)(a[A_UPPER_LEN] >> 16);
	tail[3] = (uint8_t)(a[A_UPPER_LEN] >> 8);
	tail[4] = (uint8_t)a[A_UPPER_LEN];
	sha_update(&c, buf + a[A_DATA], FIXED_LEN);
	sha_update(&c, buf + a[A_SRC], 16);
	sha_update(&c, buf + a[A_DST], 16);
	sha_update(&c, tail, sizeof tail);
	sha_update(&c, buf + a[A_UPPER], a[A_UPPER_LEN]);
	sha_final(mac, &c);
	c = k->outer;
	sha_update(&c, mac, 32);
	sha_final(mac, &c);
}

// Every piece inside the buffer; the tag (after the fixed part) too.
static int pieces_fit(const uint32_t *a, size_t size) {
	uint64_t n = size;
	return a[A_TAG_LEN] >= 1 && a[A_TAG_LEN] <= 32 && (uint64_t)a[A_DATA] + FIXED_LEN + a[A_TAG_LEN] <= n && (uint64_t)a[A_SRC] + 16 <= n &&
	       (uint64_t)a[A_DST] + 16 <= n && a[A_PROTO] <= 255 && (uint64_t)a[A_UPPER] + a[A_UPPER_LEN] <= n;
}

// Writes the tag (sign) or compares it without an early exit (verify).
static int hmac_one(const hmac_key_t *k, uint8_t *buf, const uint32_t *a, int verify) {
	uint8_t mac[32];
	hmac_pieces(k, buf, a, mac);
	uint8_t *tag = buf + a[A_DATA] + FIXED_LEN;
	uint32_t len = a[A_TAG_LEN];
	if (!verify) {
		memcpy(tag, mac, len);
		return 1;
	}
	volatile uint8_t diff = 0;
	for (uint32_t i = 0; i < len; i++) diff |= (uint8_t)(mac[i] ^ tag[i]);
	return diff == 0;
}

// The key lives while its object or any of its methods does (a method may outlive the object).
static void key_release(napi_env env, void *data, void *hint) {
	(void)hint;
	hmac_key_t *k = data;
	if (--k->refs > 0) return;
	if (k->args_ref) napi_delete_reference(env, k->args_ref);
	memset(k, 0, sizeof *k);
	free(k);
}

static napi_value key_sign(napi_env env, napi_callback_info info);
static napi_value key_verify(napi_env env, napi_callback_info info);
static napi_value key_stamp(napi_env env, napi_callback_info info);
static napi_value key_sign_batch(napi_env env, napi_callback_info info);
static napi_value key_verify_batch(napi_env env, napi_callback_info info);
static const struct {
	const char *name;
	napi_callback cb;
} key_methods[] = {
	{"sign", key_sign}, {"verify", key_verify}, {"stamp", key_stamp}, {"signBatch", key_sign_batch}, {"verifyBatch", key_verify_batch},
};
static hmac_key_t *key_this(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv);

// new HmacKey(key: Uint8Array, context: Uint8Array)
static napi_value key_new(napi_env env, napi_callback_info info) {
	size_t argc = 2;
	napi_value argv[2], self;
	if (napi_get_cb_info(env, info, &argc, argv, &self, NULL) != napi_ok) return NULL;
	uint8_t *key, *ctx;
	size_t key_len, ctx_len;
	if (argc < 2 || u8_view(env, argv[0], &key, &key_len) || u8_view(env, argv[1], &ctx, &ctx_len) || key_len == 0 || ctx_len > CONTEXT_MAX) {
		napi_throw_type_error(env, "EINVAL", "HmacKey(key, context): key must be a non-empty Uint8Array, context at most 64 bytes");
		return NULL;
	}
	hmac_key_t *k = calloc(1, sizeof *k);
	if (!k) {
		napi_throw_error(env, "ENOMEM", "out of memory");
		return NULL;
	}
	hmac_prepare(k, key, key_len, ctx, ctx_len);
	k->refs = 1;
	void *data;
	napi_value ab, args;
	if (napi_create_arraybuffer(env, HMAC_MAX_BATCH * A_COUNT * sizeof(uint32_t), &data, &ab) != napi_ok ||
	    napi_create_reference(env, ab, 1, &k->args_ref) != napi_ok ||
	    napi_create_typedarray(env, napi_uint32_array, HMAC_MAX_BATCH * A_COUNT, ab, 0, &args) != napi_ok ||
	    napi_set_named_property(env, self, "args", args) != napi_ok || napi_wrap(env, self, k, key_release, NULL, NULL) != napi_ok) {
		key_release(env, k, NULL);
		napi_throw_error(env, "ENOMEM", "cannot set up the key");
		return NULL;
	}
	k->args = data;
	memset(k->args, 0, HMAC_MAX_BATCH * A_COUNT * sizeof(uint32_t));
	// The methods are functions of this key, carrying it as their data: a call
	// then needs no napi_unwrap (a private-property lookup, a fifth of the call's cost).
	for (size_t i = 0; i < sizeof key_methods / sizeof key_methods[0]; i++) {
		napi_value fn;
		if (napi_create_function(env, key_methods[i].name, NAPI_AUTO_LENGTH, key_methods[i].cb, k, &fn) != napi_ok ||
		    napi_add_finalizer(env, fn, k, key_release, NULL, NULL) != napi_ok) {
			napi_throw_error(env, "ENOMEM", "cannot set up the key");
			return NULL;
		}
		k->refs++;
		if (napi_set_named_property(env, self, key_methods[i].name, fn) != napi_ok) return NULL;
	}
	return self;
}

static hmac_key_t *key_this(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv) {
	void *k = NULL;
	if (napi_get_cb_info(env, info, argc, argv, NULL, &k) != napi_ok || !k) {
		napi_throw_type_error(env, "EINVAL", "not an HmacKey method");
		return NULL;
	}
	return k;
}

// sign(buf) / verify(buf): the packet args[0..7] describes.
static napi_value key_run1(napi_env env, napi_callback_info info, int verify) {
	size_t argc = 1;
	napi_value argv[1], out;
	hmac_key_t *k = key_this(env, info, &argc, argv);
	if (!k) return NULL;
	uint8_t *buf;
	size_t size;
	if (argc < 1 || u8_view(env, argv[0], &buf, &size) || !pieces_fit(k->args, size)) {
		napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "HmacKey: the signing input lies outside the buffer");
		return NULL;
	}
	if (napi_get_boolean(env, hmac_one(k, buf, k->args, verify), &out) != napi_ok) return NULL;
	return out;
}

static napi_value key_sign(napi_env env, napi_callback_info info) { return key_run1(env, info, 0); }

// stamp(out, src): builds a stamped response in `out` and signs it. The
// caller has written the new Destination Options header and the option's
// fixed part into `out`; this copies the rest around it — src[C_SRC, +C_HEAD)
// (the IPv6 header and the extension headers before the new one) to out[0],
// and the upper layer src[C_UPPER, +C_UPPER_LEN) to out[C_OUT_UPPER] — then
// writes the tag as sign(out) would (args[0..7], offsets in `out`).
enum { C_SRC = A_COUNT, C_HEAD, C_UPPER, C_UPPER_LEN, C_OUT_UPPER };
static napi_value key_stamp(napi_env env, napi_callback_info info) {
	size_t argc = 2;
	napi_value argv[2], out;
	hmac_key_t *k = key_this(env, info, &argc, argv);
	if (!k) return NULL;
	uint8_t *dst, *src;
	size_t dsize, ssize;
	const uint32_t *a = k->args;
	if (argc < 2 || u8_view(env, argv[0], &dst, &dsize) || u8_view(env, argv[1], &src, &ssize) || !pieces_fit(a, dsize) ||
	    (uint64_t)a[C_SRC] + a[C_HEAD] > ssize || (uint64_t)a[C_UPPER] + a[C_UPPER_LEN] > ssize || a[C_HEAD] > dsize ||
	    (uint64_t)a[C_OUT_UPPER] + a[C_UPPER_LEN] > dsize) {
		napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "HmacKey.stamp: a copy or the signing input lies outside its buffer");
		return NULL;
	}
	memmove(dst, src + a[C_SRC], a[C_HEAD]);
	memmove(dst + a[C_OUT_UPPER], src + a[C_UPPER], a[C_UPPER_LEN]);
	if (napi_get_boolean(env, hmac_one(k, dst, a, 0), &out) != napi_ok) return NULL;
	return out;
}
static napi_value key_verify(napi_env env, napi_callback_info info) { return key_run1(env, info, 1); }

// verifyBatch(buf, count) / signBatch(buf, count): packets i < count of args,
// all in `buf` (a receive area); each result in args[8i + 7]. Returns how many were good.
static napi_value key_run_batch(napi_env env, napi_callback_info info, int verify) {
	size_t argc = 2;
	napi_value argv[2], out;
	hmac_key_t *k = key_this(env, info, &argc, argv);
	if (!k) return NULL;
	uint8_t *buf;
	size_t size;
	uint32_t count;
	if (argc < 2 || u8_view(env, argv[0], &buf, &size) || napi_get_value_uint32(env, argv[1], &count) != napi_ok || count > HMAC_MAX_BATCH) {
		napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "HmacKey batch(buf, count): bad arguments");
		return NULL;
	}
	uint32_t good = 0;
	for (uint32_t i = 0; i < count; i++) {
		uint32_t *a = k->args + (size_t)i * A_COUNT;
		a[A_RESULT] = pieces_fit(a, size) ? (uint32_t)hmac_one(k, buf, a, verify) : 0;
		good += a[A_RESULT];
	}
	if (napi_create_uint32(env, good, &out) != napi_ok) return NULL;
	return out;
}

static napi_value key_sign_batch(napi_env env, napi_callback_info info) { return key_run_batch(env, info, 0); }
static napi_value key_verify_batch(napi_env env, napi_callback_info info) { return key_run_batch(env, info, 1); }

// RFC 4231 §4.3, test case 2: key "Jefe", data "what do ya want for nothing?".
static int self_test(void) {
	static const uint8_t expect[32] = {0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60, 0x75, 0x4e, 0x6a, 0x04, 0x24, 0x26, 0x08, 0x95, 0x75, 0xc7,
	                                   0x5a, 0x00, 0x3f, 0x08, 0x9d, 0x27, 0x39, 0x83, 0x9d, 0xec, 0x58, 0xb9, 0x64, 0xec, 0x38, 0x43};
	const char *data = "what do ya want for nothing?";
	hmac_key_t k;
	memset(&k, 0, sizeof k);
	hmac_prepare(&k, (const uint8_t *)"Jefe", 4, NULL, 0);
	SHA256_CTX c = k.inner;
	uint8_t mac[32];
	sha_update(&c, data, strlen(data));
	sha_final(mac, &c);
	c = k.outer;
	sha_update(&c, mac, 32);
	sha_final(mac, &c);
	return memcmp(mac, expect, 32) == 0;
}

int hmac_define(napi_env env, napi_value exports) {
	sha_init = (sha_init_fn)dlsym(RTLD_DEFAULT, "SHA256_Init");
	sha_update = (sha_update_fn)dlsym(RTLD_DEFAULT, "SHA256_Update");
	sha_final = (sha_final_fn)dlsym(RTLD_DEFAULT, "SHA256_Final");
	napi_value reason;
	if (!sha_init || !sha_update || !sha_final || !self_test()) {
		// No HmacKey: the JS side uses node:crypto and says why in hmacUnavailable.
		const char *why = !sha_init || !sha_update || !sha_final ? "this Node's OpenSSL does not export SHA256_Init/Update/Final" : "the SHA-256 self-test failed";
		if (napi_create_string_utf8(env, why, NAPI_AUTO_LENGTH, &reason) != napi_ok) return -1;
		return napi_set_named_property(env, exports, "hmacUnavailable", reason) == napi_ok ? 0 : -1;
	}
	napi_value cls, per, max;
	if (napi_define_class(env, "HmacKey", NAPI_AUTO_LENGTH, key_new, NULL, 0, NULL, &cls) != napi_ok) return -1;
	if (napi_set_named_property(env, exports, "HmacKey", cls) != napi_ok) return -1;
	if (napi_create_uint32(env, A_COUNT, &per) != napi_ok || napi_set_named_property(env, exports, "hmacArgs", per) != napi_ok) return -1;
	if (napi_create_uint32(env, HMAC_MAX_BATCH, &max) != napi_ok || napi_set_named_property(env, exports, "hmacMaxBatch", max) != napi_ok) return -1;
	return 0;
}
