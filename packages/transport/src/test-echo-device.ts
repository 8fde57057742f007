// Test helper: the port-writer contract over a real TAP or TUN (output-queue.test.ts, and
// the switch's port-contract.test.ts by path). Each frame is an ICMP echo request from a
// peer to the device's own address; the kernel's echo reply (same payload), read back from
// the device, is the frame having arrived. Not part of the package build.
import { ethernet, icmpEchoRequest, ip, macText, parseIcmpEcho } from '../../tuntap/src/test-support.js';
import { taggedPayload, tagOf, until } from './test-frames.js';

export class IcmpEchoPeer {
  /** The tags of the echo replies read back, in arrival order. */
  readonly tags: number[] = [];
  readonly #devIp: string;
  readonly #peerIp: string;
  readonly #devMac: Buffer;
  readonly #peerMac: Buffer;

  /** The device is `net`.1 with MAC 02:e1:00:`macByte`:00:01, the peer `net`.2 with
   * 02:e1:00:`macByte`:00:02; `echoId` tells this test's replies from any others. */
  constructor(
    readonly mode: 'tap' | 'tun',
    net: string,
    macByte: number,
    private readonly echoId: number,
  ) {
    this.#devIp = `${net}.1`;
    this.#peerIp = `${net}.2`;
    this.#devMac = Buffer.from([0x02, 0xe1, 0x00, macByte, 0x00, 0x01]);
    this.#peerMac = Buffer.from([0x02, 0xe1, 0x00, macByte, 0x00, 0x02]);
  }

  /** The device's MAC as `ip link` takes it (a TAP must have it: the requests are sent to it). */
  get devMac(): string {
    return macText(this.#devMac);
  }

  /** The device's address (it is up); on a TAP the peer's MAC as a permanent neighbour: the
   * kernel's replies go straight to it, without asking by ARP first. */
  address(name: string): void {
    ip('addr', 'add', `${this.#devIp}/24`, 'dev', name);
    if (this.mode === 'tap') ip('neigh', 'replace', this.#peerIp, 'lladdr', macText(this.#peerMac), 'dev', name, 'nud', 'permanent');
  }

  /** A packet read from the device: an intact echo reply of ours counts as arrived. */
  read(p: Buffer): void {
    const packet = this.mode === 'tap' ? (p.length > 14 && p.readUInt16BE(12) === 0x0800 ? p.subarray(14) : undefined) : p;
    const echo = packet && parseIcmpEcho(packet);
    if (echo && echo.type === 0 && echo.id === this.echoId && echo.checksumsOk) this.tags.push(tagOf(echo.payload));
  }

  /** The echo request tagged `tag` (in an Ethernet frame on a TAP). */
  frame(tag: number): Buffer {
    const request = icmpEchoRequest(this.#peerIp, this.#devIp, this.echoId, tag + 1, taggedPayload(tag, 48));
    return this.mode === 'tap' ? ethernet(this.#devMac, this.#peerMac, 0x0800, request) : request;
  }

  async received(count: number): Promise<number[]> {
    await until(() => this.tags.length >= count, `${count} echo replies (have ${this.tags.length})`);
    return this.tags.slice();
  }

  /** The kernel rejects (EINVAL) a TAP frame shorter than an Ethernet header and a TUN
   * packet that is neither IPv4 nor IPv6. */
  refusedFrame(): Buffer {
    return Buffer.alloc(this.mode === 'tap' ? 6 : 20);
  }
}
