#!/usr/bin/env python3
"""A hostile member of an L2 segment (test only): floods IFNAME for SECONDS seconds with
SIZE-byte frames, as fast as it can. MODE broadcast: to ff:ff:ff:ff:ff:ff from this host's
MAC; MODE macs: to unknown unicast destinations from 2 x 65,536 different source MACs (a
bridge with a huge LAN behind it). Prints how many frames it sent.

usage: storm.py IFNAME SECONDS MODE SIZE
"""
import socket
import struct
import sys
import time


def main():
    ifname, seconds, mode, size = sys.argv[1], float(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    sock.bind((ifname, 0))
    own = bytes(int(x, 16) for x in open('/sys/class/net/%s/address' % ifname).read().strip().split(':'))
    pad = bytes(size - 14)
    broadcast = b'\xff' * 6 + own + struct.pack('!H', 0x88b5) + pad
    sent = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for _ in range(256):
            if mode == 'broadcast':
                frame = broadcast
            else:
                n = sent % 131072
                # Locally administered unicast source and destination MACs nobody has.
                frame = b'\x0a\xee\x00' + n.to_bytes(3, 'big') + b'\x06\xee\x00' + n.to_bytes(3, 'big') + struct.pack('!H', 0x88b5) + pad
            try:
                sock.send(frame)
                sent += 1
            except OSError:
                time.sleep(0.001)  # the TAP's queue is full: the client is behind
    print(sent)


main()
