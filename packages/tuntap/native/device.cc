#include "device.h"

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "bytes.h"
#include "errno-error.h"
#include "ifconfig.h"

namespace tuntap {
namespace {

constexpr size_t kSlabSize = 256 * 1024;
// Largest packet a read may return: a 64 KiB frame plus headroom for a VLAN
// tag and the virtio-net header of an offload device. TCP and UDP (USO)
// super-frames alike: the kernel hands one over whole only within TUN/TAP's
// gso_max_size (64 KiB), else segments it first (a UDP_SEGMENT send of 65507
// bytes over IPv4 reads as 65545 bytes; one of 65527 over IPv6 arrives split).
constexpr size_t kMaxRead = 65536 + 256;
// struct virtio_net_hdr without num_buffers: what TUNSETVNETHDRSZ is set to.
constexpr int kVnetHdrSize = 10;
const uint8_t kZeroVnetHdr[kVnetHdrSize] = {};
constexpr uint32_t kMaxBatch = 4096;

// USO (Linux >= 6.2): with these the kernel hands a read a local UDP_SEGMENT sender's
// run of datagrams as one UDP super-frame (gso_type UDP_L4), as it does TCP, instead of
// splitting it before the device. A kernel that takes the flags also takes UDP
// super-frames written to the device and splits them itself (virtio_net_hdr_to_skb knows
// UDP_L4 since the same release); an older one refuses both, the flags with EINVAL.
// Older headers lack them.
#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#endif
#ifndef TUN_F_USO6
#define TUN_F_USO6 0x40
#endif
constexpr unsigned long kOffloadFeatures = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;
constexpr unsigned long kUsoFeatures = TUN_F_USO4 | TUN_F_USO6;

// The `stats` array; `meta` holds (slab index, offset, length) per packet.
enum StatIndex { kRxPackets, kRxBytes, kTxPackets, kTxBytes, kTxDropped, kStatCount };

// The one place that decides how the queue is opened.
short OpenFlags(bool tun, bool offload) {
  return static_cast<short>((tun ? IFF_TUN : IFF_TAP) | IFF_NO_PI | (offload ? IFF_VNET_HDR : 0));
}

}  // namespace

Napi::Function Device::Define(Napi::Env env) {
  return DefineClass(env, "Device",
                     {
                         InstanceMethod("name", &Device::Name),
                         InstanceMethod("uso", &Device::Uso),
                         InstanceMethod("meta", &Device::Meta),
                         InstanceMethod("stats", &Device::Stats),
                         InstanceMethod("start", &Device::Start),
                         InstanceMethod("stop", &Device::Stop),
                         InstanceMethod("close", &Device::Close),
                         InstanceMethod("write", &Device::Write),
                         InstanceMethod("writeMany", &Device::WriteMany),
                         InstanceMethod("setMtu", &Device::SetMtu),
                         InstanceMethod("setMac", &Device::SetMac),
                         InstanceMethod("setUp", &Device::SetUp),
                     });
}

Device::Device(const Napi::CallbackInfo& info) : PolledFd<Device>(info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsNumber() || !info[1].IsString() || !info[2].IsNumber()) {
    Napi::TypeError::New(env, "Device(mode, name, batch, offload?, reuse?, readBytes?)").ThrowAsJavaScriptException();
    return;
  }
  bool offload = info.Length() > 3 && info[3].ToBoolean().Value();
  reuse_ = info.Length() > 4 && info[4].ToBoolean().Value();
  // 0: no byte limit, only `batch`.
  int64_t read_bytes = info.Length() > 5 && info[5].IsNumber() ? info[5].As<Napi::Number>().Int64Value() : 0;
  bool tun = info[0].As<Napi::Number>().Int32Value() == 1;
  std::string name = info[1].As<Napi::String>().Utf8Value();
  int64_t batch = info[2].As<Napi::Number>().Int64Value();
  if (name.size() >= IFNAMSIZ || name.find('\0') != std::string::npos || batch < 1 ||
      batch > kMaxBatch || read_bytes < 0) {
    ThrowErrno(env, EINVAL, "open");
    return;
  }
  batch_ = static_cast<uint32_t>(batch);
  read_bytes_ = static_cast<size_t>(read_bytes);

  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    ThrowErrno(env, errno, "open(/dev/net/tun)");
    return;
  }
  struct ifreq ifr;
  std::memset(&ifr, 0, sizeof(ifr));
  ifr.ifr_flags = OpenFlags(tun, offload);
  std::memcpy(ifr.ifr_name, name.data(), name.size());
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    int err = errno;
    close(fd);
    ThrowErrno(env, err, "ioctl(TUNSETIFF)");
    return;
  }
  ifr.ifr_name[IFNAMSIZ - 1] = '\0';
  name_ = ifr.ifr_name;
  if (offload) {
    // Every read then starts with a virtio_net_hdr and may be a TCP (or, with USO, UDP)
    // super-frame of up to 64 KiB; every write must start with one (all zero: a plain frame).
    int hdr = kVnetHdrSize;
    const char* failed = nullptr;
    if (ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0) {
      failed = "ioctl(TUNSETVNETHDRSZ)";
    } else if (ioctl(fd, TUNSETOFFLOAD, kOffloadFeatures | kUsoFeatures) == 0) {
      uso_ = true;
    } else if (errno != EINVAL || ioctl(fd, TUNSETOFFLOAD, kOffloadFeatures) < 0) {
      // EINVAL: a kernel before 6.2 that knows no USO; TCP offload alone still holds.
      failed = "ioctl(TUNSETOFFLOAD)";
    }
    if (failed != nullptr) {
      int err = errno;
      close(fd);
      ThrowErrno(env, err, failed);
      return;
    }
    offload_ = true;
  }

  Attach(env, fd, 3 * static_cast<size_t>(batch_), kStatCount, "TunTapDevice");
}

Napi::Value Device::Name(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), name_); }

Napi::Value Device::Uso(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), uso_); }

void Device::Close(const Napi::CallbackInfo& info) {
  PolledFd<Device>::Close(info);
  slab_.Reset();
  pool_.clear();
  pool_next_ = 0;
  slab_ref_ = nullptr;
  slab_data_ = nullptr;
}

bool Device::NextSlab(Napi::Env env) {
  if (reuse_ && pool_next_ < pool_.size()) {
    slab_ref_ = pool_[pool_next_++].get();
    slab_data_ = slab_ref_->data();
    slab_offset_ = 0;
    return true;
  }
  Slab fresh;
  if (!fresh.Allocate(env, kSlabSize)) {
    env.GetAndClearPendingException();
    return false;
  }
  if (reuse_) {
    pool_.push_back(std::make_unique<Slab>(std::move(fresh)));
    slab_ref_ = pool_[pool_next_++].get();
  } else {
    slab_ = std::move(fresh);
    slab_ref_ = &slab_;
  }
  slab_data_ = slab_ref_->data();
  slab_offset_ = 0;
  return true;
}

void Device::OnReadable(Napi::Env env) {
  if (reuse_) {
    // JS is done with the previous wake-up's views: start over in the first slab.
    pool_next_ = 0;
    slab_data_ = nullptr;
  }
  Napi::Array slabs = Napi::Array::New(env);
  uint32_t slab_count = 0;
  int64_t current = -1;  // index of the current slab in `slabs`, once a packet lands in it
  uint32_t count = 0;
  size_t bytes = 0;
  int err = 0;
  // Up to `batch` packets, and (with a byte limit) until that many bytes were read: the
  // rest stays queued in the kernel for the next wake-up (the poll is level-triggered).
  while (count < batch_ && (read_bytes_ == 0 || bytes < read_bytes_)) {
    if (slab_data_ == nullptr || kSlabSize - slab_offset_ < kMaxRead) {
      if (!NextSlab(env)) {
        err = ENOMEM;
        break;
      }
      current = -1;
    }
    ssize_t n = read(fd_, slab_data_ + slab_offset_, kMaxRead);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) err = errno;
      break;
    }
    if (n == 0) break;
    if (current < 0) {
      slabs.Set(slab_count, slab_ref_->Value());
      current = slab_count++;
    }
    uint32_t* m = meta_data_ + 3 * static_cast<size_t>(count);
    m[0] = static_cast<uint32_t>(current);
    m[1] = static_cast<uint32_t>(slab_offset_);
    m[2] = static_cast<uint32_t>(n);
    slab_offset_ += (static_cast<size_t>(n) + 7) & ~static_cast<size_t>(7);
    stats_data_[kRxPackets] += 1;
    stats_data_[kRxBytes] += static_cast<double>(n);
    bytes += static_cast<size_t>(n);
    ++count;
  }

  if (count > 0) Call(env, "onread", {slabs, Napi::Number::New(env, count)});
  // The callback may have closed the device; a read error ends reading, as
  // the fd would stay readable and fail again on every loop iteration.
  if (err != 0 && fd_ >= 0) Fail(env, err, "read");
}

int Device::WriteOne(const uint8_t* data, size_t length, bool add_header) {
  if (fd_ < 0) {
    stats_data_[kTxDropped] += 1;
    return EBADF;
  }
  ssize_t n;
  if (add_header && offload_) {
    // A plain frame on an offload device: a zero header (no GSO, checksum done) first.
    struct iovec iov[2] = {{const_cast<uint8_t*>(kZeroVnetHdr), kVnetHdrSize},
                           {const_cast<uint8_t*>(data), length}};
    do {
      n = writev(fd_, iov, 2);
    } while (n < 0 && errno == EINTR);
    if (n >= kVnetHdrSize) n -= kVnetHdrSize;
  } else {
    do {
      n = write(fd_, data, length);
    } while (n < 0 && errno == EINTR);
  }
  if (n < 0) {
    int err = errno;
    stats_data_[kTxDropped] += 1;
    return err;
  }
  stats_data_[kTxPackets] += 1;
  stats_data_[kTxBytes] += static_cast<double>(n);
  return 0;
}

// Returns 0 or the errno of the failed write.
Napi::Value Device::Write(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const uint8_t* data = nullptr;
  size_t length = 0;
  if (info.Length() < 1 || !BytesOf(env, info[0], &data, &length)) {
    Napi::TypeError::New(env, "write(packet): packet must be a Buffer").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  bool add_header = info.Length() > 1 && info[1].ToBoolean().Value();
  return Napi::Number::New(env, WriteOne(data, length, add_header));
}

// Writes each packet with its own write(2). Stops at the first "queue full"
// (or closed) failure, as the rest would fail the same way; other failures
// drop just that packet. Returns how many were written; the rest are counted
// in txDropped.
Napi::Value Device::WriteMany(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t total = 0;
  if (info.Length() < 1 || !info[0].IsArray() ||
      napi_get_array_length(env, info[0], &total) != napi_ok) {
    Napi::TypeError::New(env, "writeMany(packets): packets must be an array of Buffers")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  bool add_header = info.Length() > 1 && info[1].ToBoolean().Value();
  uint32_t written = 0;
  for (uint32_t i = 0; i < total; ++i) {
    napi_value element;
    const uint8_t* data = nullptr;
    size_t length = 0;
    if (napi_get_element(env, info[0], i, &element) != napi_ok || !BytesOf(env, element, &data, &length)) {
      Napi::TypeError::New(env, "writeMany(packets): packets must be an array of Buffers")
          .ThrowAsJavaScriptException();
      return env.Undefined();
    }
    int err = WriteOne(data, length, add_header);
    if (err == 0) {
      ++written;
    } else if (err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS || err == EBADF) {
      stats_data_[kTxDropped] += static_cast<double>(total - i - 1);
      break;
    }
  }
  return Napi::Number::New(env, written);
}

void Device::SetMtu(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) {
    Napi::TypeError::New(env, "setMtu(mtu): mtu must be a number").ThrowAsJavaScriptException();
    return;
  }
  if (fd_ < 0) return ThrowErrno(env, EBADF, "ioctl(SIOCSIFMTU)");
  int err = tuntap::SetMtu(name_.c_str(), info[0].As<Napi::Number>().Int32Value());
  if (err != 0) ThrowErrno(env, err, "ioctl(SIOCSIFMTU)");
}

void Device::SetMac(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const uint8_t* mac = nullptr;
  size_t length = 0;
  if (info.Length() < 1 || !BytesOf(env, info[0], &mac, &length) || length != 6) {
    Napi::TypeError::New(env, "setMac(mac): mac must be a 6-byte Buffer").ThrowAsJavaScriptException();
    return;
  }
  if (fd_ < 0) return ThrowErrno(env, EBADF, "ioctl(SIOCSIFHWADDR)");
  int err = tuntap::SetMac(name_.c_str(), mac);
  if (err != 0) ThrowErrno(env, err, "ioctl(SIOCSIFHWADDR)");
}

void Device::SetUp(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (fd_ < 0) return ThrowErrno(env, EBADF, "ioctl(SIOCSIFFLAGS)");
  int err = tuntap::SetUp(name_.c_str(), info[0].ToBoolean().Value());
  if (err != 0) ThrowErrno(env, err, "ioctl(SIOCSIFFLAGS)");
}

}  // namespace tuntap
