#!/usr/bin/env python3
"""A loop probe (test only): sends COUNT broadcast frames from SRCMAC on IFNAME, one per
INTERVAL seconds, then waits WAIT seconds and listens LISTEN seconds more. Prints three
numbers: frames sent, frames from SRCMAC received back while sending (and waiting), and
frames from SRCMAC received back while listening at the end (a loop that was not stopped
keeps returning them). Every loop here ends by its own deadline.

usage: loop-probe.py IFNAME SRCMAC COUNT INTERVAL WAIT LISTEN
"""
import socket
import struct
import sys
import time


def main():
    ifname, src, count, interval, wait, listen = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]), float(sys.argv[6])
    mac = bytes(int(x, 16) for x in src.split(':'))
    # ETH_P_ALL: see every frame on the port, ours included (outgoing ones are skipped below).
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
    sock.bind((ifname, 0))
    sock.settimeout(0.01)
    frame = b'\xff' * 6 + mac + struct.pack('!H', 0x88b5) + b'loop probe'.ljust(46, b'\0')

    def drain(until):
        n = 0
        while time.monotonic() < until:
            try:
                data, addr = sock.recvfrom(2048)
            except socket.timeout:
                continue
            # addr[2]: packet type; 4 = PACKET_OUTGOING (our own sends).
            if addr[2] != 4 and data[6:12] == mac:
                n += 1
        return n

    back = 0
    for _ in range(count):
        sock.send(frame)
        back += drain(time.monotonic() + interval)
    back += drain(time.monotonic() + wait)
    after = drain(time.monotonic() + listen)
    print(count, back, after)


if __name__ == '__main__':
    main()
