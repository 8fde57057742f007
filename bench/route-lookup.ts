/**
 * Route lookups per second of the switch's L3 table (PrefixTable, longest-prefix
 * match) with 1k, 10k and 100k host routes plus a few hundred prefixes of other
 * lengths, for IPv4 and IPv6. Prints one JSON line per case. Run: npm run bench:routes
 */
import { PrefixTable } from '@elink/switch';

const SIZES = [1_000, 10_000, 100_000];
const LOOKUPS = 2_000_000;

let seed = 42;
function rnd(): number {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return seed;
}

function build(family: 4 | 6, hosts: number): { table: PrefixTable<number>; probes: Buffer } {
  const table = new PrefixTable<number>(family, 10_000_000);
  const words = family === 4 ? 1 : 4;
  const hostLen = family === 4 ? 32 : 128;
  const keys: number[][] = [];
  for (let i = 0; i < hosts; i++) {
    // Distinct host addresses, spread over the low bits as leases are.
    const w = family === 4 ? [(0x0a000000 + i * 37) >>> 0] : [0xfd0000e1, 0, rnd() & 0xffff, (i * 37) >>> 0];
    table.insert(w, hostLen, i);
    keys.push(w);
  }
  // Delegated prefixes and LAN routes of other lengths, as a real segment has.
  const lens = family === 4 ? [16, 24, 28] : [48, 56, 64];
  for (let i = 0; i < 300; i++) {
    const w = family === 4 ? [rnd()] : [0xfd0000e1, rnd(), rnd(), 0];
    table.insert(w, lens[i % lens.length], -i);
  }
  // Probes: 80% hit a host route, 20% fall through to a prefix or miss.
  const n = 65_536;
  const probes = Buffer.alloc(n * words * 4);
  for (let i = 0; i < n; i++) {
    const w = i % 5 === 0 ? (family === 4 ? [rnd()] : [0xfd0000e1, rnd(), rnd(), rnd()]) : keys[rnd() % keys.length];
    for (let j = 0; j < words; j++) probes.writeUInt32BE(w[j] >>> 0, (i * words + j) * 4);
  }
  return { table, probes };
}

for (const family of [4, 6] as const) {
  for (const size of SIZES) {
    const { table, probes } = build(family, size);
    const stride = family === 4 ? 4 : 16;
    const n = probes.length / stride;
    let hits = 0;
    for (let i = 0; i < 200_000; i++) if (table.lookupAt(probes, (i % n) * stride) !== undefined) hits++; // warm-up
    hits = 0;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < LOOKUPS; i++) if (table.lookupAt(probes, (i & (n - 1)) * stride) !== undefined) hits++;
    const ns = Number(process.hrtime.bigint() - t0);
    console.log(JSON.stringify({ bench: 'route-lookup', family: `ipv${family}`, routes: table.size, lookups: LOOKUPS, lookupsPerSecond: Math.round(LOOKUPS / (ns / 1e9)), hitRatio: +(hits / LOOKUPS).toFixed(3) }));
  }
}
