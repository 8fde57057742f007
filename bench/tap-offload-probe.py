"""Probe for phase B's offload question: what do TAP offloads buy, on this kernel?

Two TAP devices, each in a network namespace of its own, joined by a userspace relay in
this process (two threads copying frames fd to fd), iperf3 between the namespaces for
5 s. With VNET=1 both devices use IFF_VNET_HDR + TUNSETOFFLOAD(CSUM | TSO4 | TSO6): reads
then carry a 10-byte virtio_net_hdr and TCP super-frames of up to 64 KB, which the relay
passes on as they are (a "capable pair"). Prints iperf3's receiver line and read sizes.

    sudo VNET=0 python3 bench/tap-offload-probe.py
    sudo VNET=1 python3 bench/tap-offload-probe.py

Names carry this process's pid; the namespaces (and with them the devices) are removed at
the end. Addresses: 198.19.250.1 and .2 (inside-tunnel range).
"""
import fcntl, os, struct, subprocess, sys, select, time, threading
VNET = os.environ.get('VNET') == '1'
TUNSETIFF, TUNSETOFFLOAD, TUNSETVNETHDRSZ = 0x400454ca, 0x400454d0, 0x400454d8
IFF_TAP, IFF_NO_PI, IFF_VNET_HDR = 0x0002, 0x1000, 0x4000
tag = f"elp{os.getpid()}"
def sh(*a): subprocess.run(a, check=True)
def tap(name):
    fd = os.open('/dev/net/tun', os.O_RDWR)
    flags = IFF_TAP | IFF_NO_PI | (IFF_VNET_HDR if VNET else 0)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack('16sH', name.encode(), flags))
    if VNET:
        fcntl.ioctl(fd, TUNSETVNETHDRSZ, struct.pack('i', 10))
        fcntl.ioctl(fd, TUNSETOFFLOAD, 0x01 | 0x02 | 0x04)
    return fd
nss = [f"{tag}a", f"{tag}b"]
fds = []
try:
    for i, ns in enumerate(nss):
        sh('ip', 'netns', 'add', ns)
        dev = f"{tag}t{i}"
        fds.append(tap(dev))
        sh('ip', 'link', 'set', dev, 'netns', ns)
        sh('ip', '-n', ns, 'link', 'set', dev, 'name', 'el0')
        sh('ip', '-n', ns, 'addr', 'add', f"198.19.250.{i+1}/24", 'dev', 'el0')
        sh('ip', '-n', ns, 'link', 'set', 'el0', 'up')
    sizes = []
    stop = False
    def relay(src, dst):
        while not stop:
            r, _, _ = select.select([src], [], [], 0.2)
            if not r: continue
            try: b = os.read(src, 70000)
            except BlockingIOError: continue
            sizes.append(len(b))
            try: os.write(dst, b)
            except OSError: pass
    ts = [threading.Thread(target=relay, args=(fds[0], fds[1])), threading.Thread(target=relay, args=(fds[1], fds[0]))]
    for t in ts: t.start()
    srv = subprocess.Popen(['ip', 'netns', 'exec', nss[1], 'iperf3', '-s', '-1'], stdout=subprocess.DEVNULL)
    time.sleep(0.5)
    out = subprocess.run(['ip', 'netns', 'exec', nss[0], 'iperf3', '-c', '198.19.250.2', '-t', '5'], capture_output=True, text=True, timeout=30).stdout
    print([l for l in out.splitlines() if 'receiver' in l][0])
    stop = True
    for t in ts: t.join()
    big = [s for s in sizes if s > 2000]
    print(f"VNET={VNET} reads {len(sizes)}, >2000 B: {len(big)}, max {max(sizes)}, mean of big {sum(big)/max(1,len(big)):.0f}")
    srv.wait(timeout=5)
finally:
    for ns in nss: subprocess.run(['ip', 'netns', 'del', ns])
