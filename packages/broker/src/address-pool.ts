/**
 * One segment's pool for one address family: which addresses may be leased.
 *
 * Never leased: the gateway (configured, else the first usable address), and for
 * IPv4 prefixes up to /30 the network and broadcast addresses; for IPv6 the
 * all-zero interface id (the Subnet-Router anycast address, RFC 4291 §2.6.1).
 */
import { ElError } from '@elink/protocol';
import { contains, formatAddress, formatCidr, lastAddress, parseAddress, parseCidr, type Cidr, type IpFamily } from './ip.js';

export class AddressPool {
  readonly cidr: Cidr;
  readonly family: IpFamily;
  /** First and last address that may ever be handed out (inclusive); the gateway lies in between. */
  readonly first: bigint;
  readonly last: bigint;
  readonly gateway: bigint;
  /** How many addresses can be leased (the range minus the gateway). */
  readonly capacity: bigint;

  constructor(pool: string, gateway?: string) {
    this.cidr = parseCidr(pool);
    this.family = this.cidr.family;
    const { network } = this.cidr;
    const end = lastAddress(this.cidr);
    const hasNetworkAndBroadcast = this.family === 4 && this.cidr.prefixLength <= 30;
    this.first = hasNetworkAndBroadcast || this.family === 6 ? network + 1n : network;
    this.last = hasNetworkAndBroadcast ? end - 1n : end;
    if (this.first > this.last) throw new ElError('EL_ERR_CONFIG', `address pool ${pool} has no usable address; use a shorter prefix`);
    if (gateway === undefined) {
      this.gateway = this.first;
    } else {
      this.gateway = parseAddress(gateway, this.family);
      if (!contains(this.cidr, this.gateway)) throw new ElError('EL_ERR_CONFIG', `gateway ${gateway} is outside the pool ${formatCidr(this.cidr)}`);
    }
    const gatewayInRange = this.gateway >= this.first && this.gateway <= this.last;
    this.capacity = this.last - this.first + 1n - (gatewayInRange ? 1n : 0n);
  }

  /** True when `address` may be leased from this pool. */
  isLeasable(address: bigint): boolean {
    return address >= this.first && address <= this.last && address !== this.gateway;
  }

  /** Parses an address of this pool's family (ElError EL_ERR_CONFIG otherwise). */
  parse(text: string): bigint {
    return parseAddress(text, this.family);
  }

  format(address: bigint): string {
    return formatAddress(address, this.family);
  }

  /** The address with the pool's prefix length, as clients configure it: `198.19.0.2/16`. */
  formatWithPrefix(address: bigint): string {
    return `${formatAddress(address, this.family)}/${this.cidr.prefixLength}`;
  }

  toString(): string {
    return formatCidr(this.cidr);
  }
}
