/* Addon for napi-arraybuffer-uninitialized.js: fresh(n) makes a new n-byte ArrayBuffer with
 * napi_create_arraybuffer and returns how many of its bytes are not zero (Node: always 0). */
#include <node_api.h>
#include <stdint.h>

static napi_value fresh(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  uint32_t len = 0;
  void *data = NULL;
  napi_value buffer, out;
  uint32_t nonzero = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1) return NULL;
  if (napi_get_value_uint32(env, argv[0], &len) != napi_ok) return NULL;
  if (napi_create_arraybuffer(env, len, &data, &buffer) != napi_ok) return NULL;
  for (uint32_t i = 0; i < len; i++) nonzero += ((const uint8_t *)data)[i] != 0;
  if (napi_create_uint32(env, nonzero, &out) != napi_ok) return NULL;
  return out;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  if (napi_create_function(env, "fresh", NAPI_AUTO_LENGTH, fresh, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "fresh", fn) != napi_ok) return NULL;
  return exports;
}
