// A raw IPv4 socket for protocol 41 (6in4, RFC 4213): the outer side of every
// 6in4 tunnel a switch node terminates (one socket per node, demultiplexed in JS
// by outer source address), and of the user-space test client (bound and
// connected to one peer, as a sit device is).
//
// Receive: the kernel makes the fd readable -> OnPoll -> recvmmsg(2) into the
// slots of one reused slab (at most `batch` messages per call, until EAGAIN or
// `batch` in all) -> each outer IPv4 header is checked (version, header length,
// protocol 41, total length) -> one call to the JS `onread(slab, count)`
// property, with (offset, length, source, destination) of each inner packet in
// the shared `meta` Uint32Array. The slab is read into again on the next
// wake-up: JS copies what it keeps before onread returns.
//
// Send: sendMany(packets, dst, src) is one sendmmsg(2) per 256 packets. The
// kernel builds the outer IPv4 header (no IP_HDRINCL): protocol 41, the TTL
// set at open, DF (IP_PMTUDISC_DO, as a sit device with pmtudisc), the source
// `src` through an IP_PKTINFO control message (a node has several local
// addresses: the outer source is the one the DTCP client connected to).
//
// Polling, callbacks, the meta / stats arrays and the lifetime: PolledFd.
#pragma once

#include <napi.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <vector>

#include "polled-fd.h"
#include "slab.h"

namespace tuntap {

class Proto41Socket : public PolledFd<Proto41Socket> {
 public:
  static Napi::Function Define(Napi::Env env);

  // new Proto41Socket(batch, slot, ttl, bufferBytes, local, remote): local/remote
  // are IPv4 addresses as unsigned 32-bit numbers (0: any / not connected).
  explicit Proto41Socket(const Napi::CallbackInfo& info);

 private:
  friend class PolledFd<Proto41Socket>;

  Napi::Value SendMany(const Napi::CallbackInfo& info);

  // One wake-up: one recvmmsg(2) of at most `batch` messages.
  void OnReadable(Napi::Env env);

  uint32_t batch_ = 64;
  size_t slot_ = 0;

  // `batch` slots of `slot` bytes, read into again on every wake-up.
  Slab slab_;
  std::vector<mmsghdr> rx_msgs_;
  std::vector<iovec> rx_iov_;

  // Reused for every sendMany: no allocation per call once grown.
  std::vector<mmsghdr> tx_msgs_;
  std::vector<iovec> tx_iov_;
  sockaddr_in tx_addr_{};
  std::vector<uint8_t> tx_control_;
};

}  // namespace tuntap
