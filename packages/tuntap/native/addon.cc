#include <napi.h>

#include "device.h"
#include "proto41-socket.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("Device", tuntap::Device::Define(env));
  exports.Set("Proto41Socket", tuntap::Proto41Socket::Define(env));
  return exports;
}

}  // namespace

NODE_API_MODULE(tuntap, Init)
