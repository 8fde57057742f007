#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdint>

namespace tuntap {

// Data pointer and length of a Uint8Array (Buffer); false for anything else.
inline bool BytesOf(napi_env env, napi_value value, const uint8_t** data, size_t* length) {
  napi_typedarray_type type;
  void* raw = nullptr;
  if (napi_get_typedarray_info(env, value, &type, length, &raw, nullptr, nullptr) != napi_ok) return false;
  if (type != napi_uint8_array) return false;
  *data = static_cast<const uint8_t*>(raw);
  return true;
}

}  // namespace tuntap
