// One open TAP/TUN queue: the file descriptor, its libuv poll handle, and the
// slab that received packets are read into.
//
// Packet flow (receive): the kernel makes the fd readable -> OnPoll -> read(2)
// until EAGAIN or `batch` packets, each into the current slab at an 8-byte
// aligned offset -> one call to the JS `onread(slabs, count)` property, with
// (slab index, offset, length) triples in the shared `meta` Uint32Array. The
// slab is never written below its current offset again, so views handed to
// JS stay valid; a slab with too little room left is dropped (JS views keep
// it alive) and a fresh one allocated.
//
// With `reuse`, the same few slabs are read into again on every wake-up: JS
// promises to be done with the views when its onread call returns (the kernel
// client copies every packet into its TLS write). Why: each fresh slab is an
// ArrayBuffer V8 counts as external memory, and at gigabit rates that churn
// set off a full mark-compact several times a second.
//
// Lifetime: while polling, the wrapper holds a strong reference to itself
// (an active device keeps emitting, like a socket). Paused or closed, it is
// weak, and if it is collected unclosed the destructor releases the handle
// and the fd.
#pragma once

#include <napi.h>
#include <uv.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace tuntap {

class Device : public Napi::ObjectWrap<Device> {
 public:
  static Napi::Function Define(Napi::Env env);

  // new Device(mode: 0 = tap | 1 = tun, name: string, batch: number, offload?: boolean, reuse?: boolean)
  // With offload the queue is opened with IFF_VNET_HDR (a 10-byte virtio_net_hdr
  // before every packet read or written) and TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6.
  explicit Device(const Napi::CallbackInfo& info);
  ~Device() override;

 private:
  Napi::Value Name(const Napi::CallbackInfo& info);
  Napi::Value Meta(const Napi::CallbackInfo& info);
  Napi::Value Stats(const Napi::CallbackInfo& info);
  void Start(const Napi::CallbackInfo& info);
  void Stop(const Napi::CallbackInfo& info);
  void Close(const Napi::CallbackInfo& info);
  Napi::Value Write(const Napi::CallbackInfo& info);
  Napi::Value WriteMany(const Napi::CallbackInfo& info);
  void SetMtu(const Napi::CallbackInfo& info);
  void SetMac(const Napi::CallbackInfo& info);
  void SetUp(const Napi::CallbackInfo& info);

  static void OnPoll(uv_poll_t* handle, int status, int events);
  void OnReadable(int status);
  bool NextSlab(Napi::Env env);
  void Call(Napi::Env env, const char* property, const std::initializer_list<napi_value>& args);
  // add_header: on an offload device, write a zero virtio_net_hdr before `data`.
  int WriteOne(const uint8_t* data, size_t length, bool add_header);
  void StopPolling();
  void Release();

  int fd_ = -1;
  uv_poll_t* poll_ = nullptr;
  bool polling_ = false;
  bool offload_ = false;
  uint32_t batch_ = 64;
  std::string name_;
  std::unique_ptr<Napi::AsyncContext> async_;

  // The slab being filled: slab_ itself, or one of pool_ with `reuse`.
  Napi::Reference<Napi::Buffer<uint8_t>>* slab_ref_ = nullptr;
  Napi::Reference<Napi::Buffer<uint8_t>> slab_;
  uint8_t* slab_data_ = nullptr;
  size_t slab_offset_ = 0;
  bool reuse_ = false;
  std::vector<std::unique_ptr<Napi::Reference<Napi::Buffer<uint8_t>>>> pool_;
  size_t pool_next_ = 0;

  Napi::Reference<Napi::Uint32Array> meta_;
  uint32_t* meta_data_ = nullptr;
  // rxPackets, rxBytes, txPackets, txBytes, txDropped: shared with JS so the
  // hot path counts into memory and JS reads it only when asked.
  Napi::Reference<Napi::Float64Array> stats_;
  double* stats_data_ = nullptr;
};

}  // namespace tuntap
