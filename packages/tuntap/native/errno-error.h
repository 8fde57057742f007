#pragma once

#include <napi.h>

#include <cstring>
#include <string>

namespace tuntap {

// Throws a JS Error carrying `errno` and `syscall`, which the TypeScript side
// turns into an ElError with a reason and an actionable message.
inline void ThrowErrno(Napi::Env env, int err, const char* syscall) {
  Napi::Error e = Napi::Error::New(env, std::string(syscall) + ": " + std::strerror(err));
  e.Set("errno", Napi::Number::New(env, err));
  e.Set("syscall", Napi::String::New(env, syscall));
  e.ThrowAsJavaScriptException();
}

}  // namespace tuntap
