/**
 * A delegation pool: `pool` cut into prefixes of `length` (segment.delegation), for
 * clients that route a LAN behind them. Prefix i is the pool's network + i · 2^(bits − length).
 */
import { ElError } from '@elink/protocol';
import { addressBits, formatAddress, formatCidr, parseCidr, type Cidr, type IpFamily } from './ip.js';

/** Bounds the search for a free prefix (and so a pool's usable size). */
export const MAX_PREFIXES = 65536;

export class PrefixPool {
  readonly cidr: Cidr;
  readonly family: IpFamily;
  readonly length: number;
  /** How many prefixes can be delegated (capped at MAX_PREFIXES). */
  readonly capacity: number;

  constructor(pool: string, length: number) {
    this.cidr = parseCidr(pool);
    this.family = this.cidr.family;
    this.length = length;
    if (length < this.cidr.prefixLength || length > addressBits(this.family)) {
      throw new ElError('EL_ERR_CONFIG', `delegated prefix length /${length} does not fit in the pool ${formatCidr(this.cidr)}`);
    }
    const count = 1n << BigInt(length - this.cidr.prefixLength);
    this.capacity = count > BigInt(MAX_PREFIXES) ? MAX_PREFIXES : Number(count);
  }

  /** The i-th prefix, "fd00:e1:0:100::/56". */
  format(i: number): string {
    const network = this.cidr.network + (BigInt(i) << BigInt(addressBits(this.family) - this.length));
    return `${formatAddress(network, this.family)}/${this.length}`;
  }

  toString(): string {
    return formatCidr(this.cidr);
  }
}
