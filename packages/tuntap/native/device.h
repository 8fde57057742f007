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
// Polling, callbacks, the meta / stats arrays and the lifetime: PolledFd.
#pragma once

#include <napi.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "polled-fd.h"
#include "slab.h"

namespace tuntap {

class Device : public PolledFd<Device> {
 public:
  static Napi::Function Define(Napi::Env env);

  // new Device(mode: 0 = tap | 1 = tun, name: string, batch: number, offload?: boolean, reuse?: boolean)
  // With offload the queue is opened with IFF_VNET_HDR (a 10-byte virtio_net_hdr
  // before every packet read or written) and TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6,
  // plus TUN_F_USO4 | TUN_F_USO6 where the kernel has them (>= 6.2; uso() says so).
  explicit Device(const Napi::CallbackInfo& info);

 private:
  friend class PolledFd<Device>;

  Napi::Value Name(const Napi::CallbackInfo& info);
  // True when TUNSETOFFLOAD took TUN_F_USO4 | TUN_F_USO6 (UDP super-frames both ways).
  Napi::Value Uso(const Napi::CallbackInfo& info);
  void Close(const Napi::CallbackInfo& info);
  Napi::Value Write(const Napi::CallbackInfo& info);
  Napi::Value WriteMany(const Napi::CallbackInfo& info);
  void SetMtu(const Napi::CallbackInfo& info);
  void SetMac(const Napi::CallbackInfo& info);
  void SetUp(const Napi::CallbackInfo& info);

  // One wake-up: read(2) until EAGAIN or `batch` packets.
  void OnReadable(Napi::Env env);
  bool NextSlab(Napi::Env env);
  // add_header: on an offload device, write a zero virtio_net_hdr before `data`.
  int WriteOne(const uint8_t* data, size_t length, bool add_header);

  bool offload_ = false;
  bool uso_ = false;
  uint32_t batch_ = 64;
  // Bytes after which a wake-up stops reading (0: none).
  size_t read_bytes_ = 0;
  std::string name_;

  // The slab being filled: slab_ itself, or one of pool_ with `reuse`.
  Slab* slab_ref_ = nullptr;
  Slab slab_;
  uint8_t* slab_data_ = nullptr;
  size_t slab_offset_ = 0;
  bool reuse_ = false;
  std::vector<std::unique_ptr<Slab>> pool_;
  size_t pool_next_ = 0;
};

}  // namespace tuntap
