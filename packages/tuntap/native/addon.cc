#include <napi.h>

#include "device.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("Device", tuntap::Device::Define(env));
  return exports;
}

}  // namespace

NODE_API_MODULE(tuntap, Init)
