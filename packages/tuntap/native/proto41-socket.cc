#include "proto41-socket.h"

#include <arpa/inet.h>
#include <netinet/ip.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "bytes.h"
#include "errno-error.h"

namespace tuntap {
namespace {

constexpr int kProto41 = 41;  // IPPROTO_IPV6 as an IPv4 payload
constexpr uint32_t kMaxBatch = 1024;
constexpr uint32_t kSendChunk = 256;
// An outer IPv4 header is 20..60 bytes; the inner IPv6 header alone is 40.
constexpr size_t kMinOuter = 20 + 40;

// The `stats` array; `meta` holds (offset, length, source, destination) per inner packet.
enum StatIndex { kRxPackets, kRxBytes, kTxPackets, kTxBytes, kTxDropped, kRxBad, kStatCount };

int SetInt(int fd, int level, int name, int value) {
  return setsockopt(fd, level, name, &value, sizeof(value)) < 0 ? errno : 0;
}

}  // namespace

Napi::Function Proto41Socket::Define(Napi::Env env) {
  return DefineClass(env, "Proto41Socket",
                     {
                         InstanceMethod("meta", &Proto41Socket::Meta),
                         InstanceMethod("stats", &Proto41Socket::Stats),
                         InstanceMethod("start", &Proto41Socket::Start),
                         InstanceMethod("stop", &Proto41Socket::Stop),
                         InstanceMethod("close", &Proto41Socket::Close),
                         InstanceMethod("sendMany", &Proto41Socket::SendMany),
                     });
}

Proto41Socket::Proto41Socket(const Napi::CallbackInfo& info) : PolledFd<Proto41Socket>(info) {
  Napi::Env env = info.Env();
  if (info.Length() < 6) {
    Napi::TypeError::New(env, "Proto41Socket(batch, slot, ttl, bufferBytes, local, remote)").ThrowAsJavaScriptException();
    return;
  }
  for (size_t i = 0; i < 6; ++i) {
    if (!info[i].IsNumber()) {
      Napi::TypeError::New(env, "Proto41Socket(batch, slot, ttl, bufferBytes, local, remote)").ThrowAsJavaScriptException();
      return;
    }
  }
  int64_t batch = info[0].As<Napi::Number>().Int64Value();
  int64_t slot = info[1].As<Napi::Number>().Int64Value();
  int64_t ttl = info[2].As<Napi::Number>().Int64Value();
  int64_t buffer = info[3].As<Napi::Number>().Int64Value();
  uint32_t local = info[4].As<Napi::Number>().Uint32Value();
  uint32_t remote = info[5].As<Napi::Number>().Uint32Value();
  if (batch < 1 || batch > kMaxBatch || slot < 1280 || slot > 65536 || ttl < 1 || ttl > 255 || buffer < 0 ||
      buffer > (1 << 30)) {
    ThrowErrno(env, EINVAL, "socket(AF_INET, SOCK_RAW, 41)");
    return;
  }
  batch_ = static_cast<uint32_t>(batch);
  // Whole 8-byte multiples, so every inner packet starts aligned.
  slot_ = (static_cast<size_t>(slot) + 7) & ~static_cast<size_t>(7);

  int fd = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, kProto41);
  if (fd < 0) {
    ThrowErrno(env, errno, "socket(AF_INET, SOCK_RAW, 41)");
    return;
  }
  const char* failed = nullptr;
  int err = 0;
  // DF on every outer packet, as a sit device with pmtudisc (the default) sends.
  if ((err = SetInt(fd, IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DO)) != 0) failed = "setsockopt(IP_MTU_DISCOVER)";
  else if ((err = SetInt(fd, IPPROTO_IP, IP_TTL, static_cast<int>(ttl))) != 0) failed = "setsockopt(IP_TTL)";
  if (failed == nullptr && buffer > 0) {
    // FORCE needs CAP_NET_ADMIN (which a node terminating tunnels has); else the sysctl caps apply.
    if (SetInt(fd, SOL_SOCKET, SO_RCVBUFFORCE, static_cast<int>(buffer)) != 0) SetInt(fd, SOL_SOCKET, SO_RCVBUF, static_cast<int>(buffer));
    if (SetInt(fd, SOL_SOCKET, SO_SNDBUFFORCE, static_cast<int>(buffer)) != 0) SetInt(fd, SOL_SOCKET, SO_SNDBUF, static_cast<int>(buffer));
  }
  if (failed == nullptr && local != 0) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(local);
    if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) < 0) {
      err = errno;
      failed = "bind";
    }
  }
  if (failed == nullptr && remote != 0) {
    // A connected raw socket receives only from `remote` (and sends to it by default).
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(remote);
    if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) < 0) {
      err = errno;
      failed = "connect";
    }
  }
  if (failed != nullptr) {
    close(fd);
    ThrowErrno(env, err, failed);
    return;
  }

  if (!Attach(env, fd, 4 * static_cast<size_t>(batch_), kStatCount, "Proto41Socket")) return;
  if (!slab_.Allocate(env, slot_ * batch_)) return;  // the destructor releases fd and handle
  rx_msgs_.resize(batch_);
  rx_iov_.resize(batch_);
  for (uint32_t i = 0; i < batch_; ++i) {
    rx_iov_[i].iov_base = slab_.data() + i * slot_;
    rx_iov_[i].iov_len = slot_;
    std::memset(&rx_msgs_[i], 0, sizeof(mmsghdr));
    rx_msgs_[i].msg_hdr.msg_iov = &rx_iov_[i];
    rx_msgs_[i].msg_hdr.msg_iovlen = 1;
  }
  tx_control_.assign(CMSG_SPACE(sizeof(in_pktinfo)), 0);
}

void Proto41Socket::OnReadable(Napi::Env env) {
  // One recvmmsg: the slab holds `batch` slots and JS gets them before the next call.
  int n;
  do {
    n = recvmmsg(fd_, rx_msgs_.data(), batch_, MSG_DONTWAIT, nullptr);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    int err = errno;
    if (err == EAGAIN || err == EWOULDBLOCK) return;
    Fail(env, err, "recvmmsg");
    return;
  }
  uint32_t count = 0;
  for (int i = 0; i < n; ++i) {
    const mmsghdr& m = rx_msgs_[i];
    const uint8_t* p = slab_.data() + static_cast<size_t>(i) * slot_;
    size_t len = m.msg_len;
    stats_data_[kRxPackets] += 1;
    stats_data_[kRxBytes] += static_cast<double>(len);
    // The kernel hands a raw socket the whole (reassembled) IPv4 packet, header first.
    size_t ihl = len > 0 ? static_cast<size_t>(p[0] & 0x0f) * 4 : 0;
    size_t total = len >= 4 ? (static_cast<size_t>(p[2]) << 8 | p[3]) : 0;
    if ((m.msg_hdr.msg_flags & MSG_TRUNC) != 0 || len < kMinOuter || (p[0] >> 4) != 4 || ihl < 20 ||
        p[9] != kProto41 || total < ihl + 40 || total > len) {
      stats_data_[kRxBad] += 1;
      continue;
    }
    uint32_t* meta = meta_data_ + 4 * static_cast<size_t>(count);
    meta[0] = static_cast<uint32_t>(static_cast<size_t>(i) * slot_ + ihl);
    meta[1] = static_cast<uint32_t>(total - ihl);
    meta[2] = (uint32_t(p[12]) << 24) | (uint32_t(p[13]) << 16) | (uint32_t(p[14]) << 8) | p[15];
    meta[3] = (uint32_t(p[16]) << 24) | (uint32_t(p[17]) << 16) | (uint32_t(p[18]) << 8) | p[19];
    ++count;
  }
  // Message flags are written by the kernel; clear for the next call.
  for (int i = 0; i < n; ++i) rx_msgs_[i].msg_hdr.msg_flags = 0;
  if (count > 0) Call(env, "onread", {slab_.Value(), Napi::Number::New(env, count)});
  // Level-triggered poll: a full batch leaves the rest readable for the next loop turn,
  // so other sockets get their turn in between.
}

// sendMany(packets: Uint8Array[], dst: number, src: number): number written. dst 0: the
// connected peer; src 0: the kernel picks the outer source. Stops at the first "buffer full"
// (EAGAIN/ENOBUFS: the rest would fail the same way); any other failure drops that packet
// only (EMSGSIZE: longer than the path MTU with DF). Drops are counted in txDropped.
Napi::Value Proto41Socket::SendMany(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t total = 0;
  if (info.Length() < 3 || !info[0].IsArray() || !info[1].IsNumber() || !info[2].IsNumber() ||
      napi_get_array_length(env, info[0], &total) != napi_ok) {
    Napi::TypeError::New(env, "sendMany(packets, dst, src)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (fd_ < 0) {
    stats_data_[kTxDropped] += total;
    return Napi::Number::New(env, 0);
  }
  uint32_t dst = info[1].As<Napi::Number>().Uint32Value();
  uint32_t src = info[2].As<Napi::Number>().Uint32Value();
  std::memset(&tx_addr_, 0, sizeof(tx_addr_));
  tx_addr_.sin_family = AF_INET;
  tx_addr_.sin_addr.s_addr = htonl(dst);
  if (src != 0) {
    std::fill(tx_control_.begin(), tx_control_.end(), 0);
    auto* c = reinterpret_cast<cmsghdr*>(tx_control_.data());
    c->cmsg_level = IPPROTO_IP;
    c->cmsg_type = IP_PKTINFO;
    c->cmsg_len = CMSG_LEN(sizeof(in_pktinfo));
    auto* pi = reinterpret_cast<in_pktinfo*>(CMSG_DATA(c));
    pi->ipi_spec_dst.s_addr = htonl(src);
  }
  uint32_t written = 0;
  uint32_t done = 0;
  while (done < total) {
    uint32_t chunk = std::min(kSendChunk, total - done);
    if (tx_msgs_.size() < chunk) {
      tx_msgs_.resize(chunk);
      tx_iov_.resize(chunk);
    }
    for (uint32_t j = 0; j < chunk; ++j) {
      napi_value element;
      const uint8_t* data = nullptr;
      size_t length = 0;
      if (napi_get_element(env, info[0], done + j, &element) != napi_ok || !BytesOf(env, element, &data, &length)) {
        Napi::TypeError::New(env, "sendMany(packets): packets must be Buffers").ThrowAsJavaScriptException();
        return env.Undefined();
      }
      tx_iov_[j].iov_base = const_cast<uint8_t*>(data);
      tx_iov_[j].iov_len = length;
      msghdr& h = tx_msgs_[j].msg_hdr;
      std::memset(&h, 0, sizeof(h));
      h.msg_iov = &tx_iov_[j];
      h.msg_iovlen = 1;
      if (dst != 0) {
        h.msg_name = &tx_addr_;
        h.msg_namelen = sizeof(tx_addr_);
      }
      if (src != 0) {
        h.msg_control = tx_control_.data();
        h.msg_controllen = tx_control_.size();
      }
    }
    uint32_t sent = 0;
    bool full = false;
    while (sent < chunk) {
      int n = sendmmsg(fd_, tx_msgs_.data() + sent, chunk - sent, MSG_DONTWAIT);
      if (n < 0) {
        if (errno == EINTR) continue;
        int err = errno;
        stats_data_[kTxDropped] += 1;
        if (err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS) {
          full = true;
          break;
        }
        ++sent;  // this one is refused; go on with the next
        continue;
      }
      for (int k = 0; k < n; ++k) {
        stats_data_[kTxPackets] += 1;
        stats_data_[kTxBytes] += static_cast<double>(tx_iov_[sent + k].iov_len);
      }
      written += static_cast<uint32_t>(n);
      sent += static_cast<uint32_t>(n);
    }
    done += chunk;
    if (full) {
      stats_data_[kTxDropped] += static_cast<double>(total - done + (chunk - sent - 1));
      break;
    }
  }
  return Napi::Number::New(env, written);
}

}  // namespace tuntap
