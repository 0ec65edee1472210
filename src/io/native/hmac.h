// HMAC-SHA256 for the identifier (hmac.c): defines HmacKey on `exports`, or
// hmacUnavailable (a reason) when this Node's OpenSSL lacks what it needs.
#ifndef ANYGUARD_HMAC_H
#define ANYGUARD_HMAC_H
#include <node_api.h>
int hmac_define(napi_env env, napi_value exports);
#endif
