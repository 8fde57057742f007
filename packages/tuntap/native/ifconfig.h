// Interface settings through ioctls on a throwaway AF_INET datagram socket.
// Each function returns 0 or an errno value; none of them touch JavaScript.
#pragma once

#include <cstdint>

namespace tuntap {

int SetMtu(const char* ifname, int mtu);
int SetMac(const char* ifname, const uint8_t mac[6]);
int SetUp(const char* ifname, bool up);

}  // namespace tuntap
