// What a TAP/TUN queue (Device) and a raw protocol-41 socket (Proto41Socket)
// share: a non-blocking fd watched by a libuv poll handle, the wrapper's JS
// callbacks (`onread`, `onerror`), and the `meta` / `stats` typed arrays the
// native side writes and JS reads (the hot path counts into memory; JS reads
// it only when asked). Derived says what a wake-up does: OnReadable(env).
//
// Lifetime: while polling, the wrapper holds a strong reference to itself (an
// active fd keeps emitting, like a socket). Paused or closed, it is weak, and
// if it is collected unclosed the destructor releases the handle and the fd.
#pragma once

#include <napi.h>
#include <unistd.h>
#include <uv.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>

#include "errno-error.h"

namespace tuntap {

template <typename Derived>
class PolledFd : public Napi::ObjectWrap<Derived> {
 protected:
  explicit PolledFd(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Derived>(info) {}
  ~PolledFd() override { Release(); }

  // Takes ownership of `fd` and sets up its poll handle and the meta / stats
  // arrays. False with a JS exception pending on failure: the fd is closed
  // then (or, once owned, released by the destructor).
  bool Attach(Napi::Env env, int fd, size_t meta_length, size_t stat_count, const char* resource) {
    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) {
      close(fd);
      ThrowErrno(env, EINVAL, "uv_default_loop");
      return false;
    }
    auto* poll = new uv_poll_t;
    int rc = uv_poll_init(loop, poll, fd);
    if (rc != 0) {
      delete poll;  // never initialised, so no uv_close
      close(fd);
      ThrowErrno(env, -rc, "uv_poll_init");
      return false;
    }
    poll->data = static_cast<Derived*>(this);
    poll_ = poll;
    fd_ = fd;

    Napi::Uint32Array meta = Napi::Uint32Array::New(env, meta_length);
    Napi::Float64Array stats = Napi::Float64Array::New(env, stat_count);
    if (env.IsExceptionPending()) return false;
    meta_data_ = meta.Data();
    stats_data_ = stats.Data();
    meta_ = Napi::Persistent(meta);
    stats_ = Napi::Persistent(stats);
    async_ = std::make_unique<Napi::AsyncContext>(env, resource);
    return true;
  }

  Napi::Value Meta(const Napi::CallbackInfo& info) {
    return meta_.IsEmpty() ? info.Env().Undefined() : meta_.Value();
  }

  Napi::Value Stats(const Napi::CallbackInfo& info) {
    return stats_.IsEmpty() ? info.Env().Undefined() : stats_.Value();
  }

  void Start(const Napi::CallbackInfo& info) {
    if (fd_ < 0 || polling_) return;
    int rc = uv_poll_start(poll_, UV_READABLE, OnPoll);
    if (rc != 0) {
      ThrowErrno(info.Env(), -rc, "uv_poll_start");
      return;
    }
    polling_ = true;
    this->Ref();
  }

  void Stop(const Napi::CallbackInfo&) { StopPolling(); }

  void Close(const Napi::CallbackInfo&) {
    StopPolling();
    Release();
  }

  void StopPolling() {
    if (!polling_) return;
    uv_poll_stop(poll_);
    polling_ = false;
    this->Unref();
  }

  // Reading ends on an error, as the fd would stay readable and fail again on
  // every loop iteration; JS hears of it through `onerror(errno, syscall)`.
  void Fail(Napi::Env env, int err, const char* syscall) {
    StopPolling();
    Call(env, "onerror", {Napi::Number::New(env, err), Napi::String::New(env, syscall)});
  }

  // Calls a function property of the wrapper. An exception from JS is raised as
  // an uncaught exception, as for any other event handler, instead of being
  // left pending (and lost) on the environment.
  void Call(Napi::Env env, const char* property, const std::initializer_list<napi_value>& args) {
    Napi::Object self = this->Value();
    Napi::Value fn = self.Get(property);
    if (!env.IsExceptionPending() && fn.IsFunction()) {
      fn.As<Napi::Function>().MakeCallback(self, args, *async_);
    }
    if (env.IsExceptionPending()) {
      Napi::Error error = env.GetAndClearPendingException();
      napi_fatal_exception(env, error.Value());
    }
  }

  int fd_ = -1;
  uint32_t* meta_data_ = nullptr;
  double* stats_data_ = nullptr;

 private:
  static void OnPoll(uv_poll_t* handle, int status, int /*events*/) {
    auto* self = static_cast<Derived*>(handle->data);
    Napi::Env env = self->Env();
    Napi::HandleScope scope(env);
    if (status < 0) {
      self->Fail(env, -status, "poll");
      return;
    }
    self->OnReadable(env);
  }

  // Closes the handle and the fd; safe to call twice and from the destructor.
  // uv_close stops the watcher synchronously (so closing the fd right after is
  // fine); the handle's memory is freed in its close callback, which does not
  // touch the wrapper, so the wrapper may be gone by then.
  void Release() {
    if (poll_ != nullptr) {
      polling_ = false;
      uv_close(reinterpret_cast<uv_handle_t*>(poll_),
               [](uv_handle_t* handle) { delete reinterpret_cast<uv_poll_t*>(handle); });
      poll_ = nullptr;
    }
    if (fd_ >= 0) {
      close(fd_);
      fd_ = -1;
    }
  }

  uv_poll_t* poll_ = nullptr;
  bool polling_ = false;
  std::unique_ptr<Napi::AsyncContext> async_;
  Napi::Reference<Napi::Uint32Array> meta_;
  Napi::Reference<Napi::Float64Array> stats_;
};

}  // namespace tuntap
