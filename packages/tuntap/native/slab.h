// A Buffer the native side reads packets into and hands to JS as it is: the
// persistent reference keeps it alive while the native side may still read
// into it (JS views keep it alive after that), and the data pointer is
// cached so the read loop never goes through the reference.
#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdint>

namespace tuntap {

class Slab {
 public:
  // False, with the JS exception left pending, if the Buffer could not be made.
  bool Allocate(Napi::Env env, size_t size) {
    Napi::Buffer<uint8_t> buffer = Napi::Buffer<uint8_t>::New(env, size);
    if (env.IsExceptionPending()) return false;
    data_ = buffer.Data();
    ref_ = Napi::Persistent(buffer);
    return true;
  }

  void Reset() {
    ref_.Reset();
    data_ = nullptr;
  }

  uint8_t* data() const { return data_; }
  Napi::Buffer<uint8_t> Value() const { return ref_.Value(); }

 private:
  Napi::Reference<Napi::Buffer<uint8_t>> ref_;
  uint8_t* data_ = nullptr;
};

}  // namespace tuntap
