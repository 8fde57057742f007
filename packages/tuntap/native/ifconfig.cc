#include "ifconfig.h"

#include <net/if.h>
#include <net/if_arp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace tuntap {
namespace {

// Fills ifr with the name; the caller has checked it fits (IFNAMSIZ - 1).
void PrepareIfreq(struct ifreq* ifr, const char* ifname) {
  std::memset(ifr, 0, sizeof(*ifr));
  std::strncpy(ifr->ifr_name, ifname, IFNAMSIZ - 1);
}

// Runs one ioctl on a fresh socket: interface ioctls need a socket of any
// family, and a throwaway one avoids holding a descriptor per device.
int IfIoctl(unsigned long request, struct ifreq* ifr) {
  int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (sock < 0) return errno;
  int rc = ioctl(sock, request, ifr);
  int err = rc < 0 ? errno : 0;
  close(sock);
  return err;
}

}  // namespace

int SetMtu(const char* ifname, int mtu) {
  struct ifreq ifr;
  PrepareIfreq(&ifr, ifname);
  ifr.ifr_mtu = mtu;
  return IfIoctl(SIOCSIFMTU, &ifr);
}

int SetMac(const char* ifname, const uint8_t mac[6]) {
  struct ifreq ifr;
  PrepareIfreq(&ifr, ifname);
  ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
  std::memcpy(ifr.ifr_hwaddr.sa_data, mac, 6);
  return IfIoctl(SIOCSIFHWADDR, &ifr);
}

int SetUp(const char* ifname, bool up) {
  struct ifreq ifr;
  PrepareIfreq(&ifr, ifname);
  int err = IfIoctl(SIOCGIFFLAGS, &ifr);
  if (err != 0) return err;
  if (up) {
    ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
  } else {
    ifr.ifr_flags = static_cast<short>(ifr.ifr_flags & ~IFF_UP);
  }
  return IfIoctl(SIOCSIFFLAGS, &ifr);
}

}  // namespace tuntap
