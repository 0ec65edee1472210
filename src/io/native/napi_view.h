// The bytes of a Uint8Array argument, for the addon's two halves (the I/O in
// anyguard_io.c, the HMAC in hmac.c): 0, or -1 when `v` is not a Uint8Array.
#ifndef ANYGUARD_NAPI_VIEW_H
#define ANYGUARD_NAPI_VIEW_H
#include <node_api.h>
#include <stdint.h>

static inline int u8_view(napi_env env, napi_value v, uint8_t **data, size_t *len) {
	napi_typedarray_type type;
	napi_value ab;
	size_t off;
	void *d;
	if (napi_get_typedarray_info(env, v, &type, len, &d, &ab, &off) != napi_ok || type != napi_uint8_array) return -1;
	*data = d;
	return 0;
}

#endif
