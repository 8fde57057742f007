/**
 * A segment: one virtual network. The broker and every switch node hosting it share
 * this definition (from the config file now, from the broker's registry later).
 *
 * Two kinds, told apart by `mode`: an L2 segment switches Ethernet frames (MAC table,
 * flooding, ARP/ND inspection, a TAP bridge); an L3 segment routes IP packets (routes,
 * reach, delegated prefixes, a TUN uplink). Each kind accepts only its own keys and every
 * object is strict, so a misspelt or misplaced key is refused instead of ignored.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { dnsDomainSchema, dnsServerSchema, MAX_DNS_SEARCH, MAX_DNS_SERVERS } from './dns.js';

const v4cidr = z.string().refine((s) => /^[\d.]+\/\d{1,2}$/.test(s) && isIP(s.split('/')[0]) === 4 && Number(s.split('/')[1]) <= 32, 'an IPv4 prefix like 198.19.0.0/16');
const v6cidr = z.string().refine((s) => /^[0-9a-fA-F:]+\/\d{1,3}$/.test(s) && isIP(s.split('/')[0]) === 6 && Number(s.split('/')[1]) <= 128, 'an IPv6 prefix like fd00:e1::/64');
/** An IPv4 or IPv6 prefix: a LAN range a bridge may claim. */
export const cidrSchema = z.union([v4cidr, v6cidr]);

/** A token bucket: `rate` per second on average, `burst` at once. */
const bucket = (rate: number, burst: number, maxRate: number) =>
  z.strictObject({ rate: z.number().int().min(1).max(maxRate).default(rate), burst: z.number().int().min(1).max(maxRate).default(burst) }).prefault({});

/** Keys every segment has, whatever its mode (besides name and mode). */
const name = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'lower-case letters, digits, - and _, at most 63');
const baseShape = {
  mtu: z.number().int().min(1280).max(9000).default(1500),
  /** Address pools. The first usable address is reserved as the gateway unless `gateway` says otherwise. */
  ipv4: z.strictObject({ pool: v4cidr, gateway: z.string().optional() }).optional(),
  ipv6: z.strictObject({ pool: v6cidr, gateway: z.string().optional() }).optional(),
  keepalive: z
    .strictObject({ interval: z.number().min(1).max(3600).default(15), timeout: z.number().min(3).max(86400).default(45) })
    // A timeout shorter than two intervals ends healthy sessions whenever one ping is late.
    .refine((k) => k.timeout >= 2 * k.interval, { message: 'timeout must be at least twice the interval', path: ['timeout'] })
    .prefault({}),
  /** DNS servers and search domains pushed to clients in welcome (none by default: clients
   * keep their own resolver). Read at each admission, so a reload reaches new sessions.
   * Absent unless configured (no prefault): a definition without it is what switch nodes
   * that predate it accept from a newer broker's heartbeat (their schema is strict). */
  dns: z
    .strictObject({
      servers: z.array(dnsServerSchema).max(MAX_DNS_SERVERS).default([]),
      search: z.array(dnsDomainSchema).max(MAX_DNS_SEARCH).default([]),
    })
    // Search domains without a server would reach no client: welcome carries dns only with servers.
    .refine((d) => d.search.length === 0 || d.servers.length > 0, { message: 'search domains need at least one server', path: ['search'] })
    .optional(),
};

/** An L2 segment: Ethernet switching. `mode` may be left out (L2 is the default). */
export const l2SegmentSchema = z.strictObject({
  name,
  mode: z.literal('l2').default('l2'),
  ...baseShape,
  /** A TAP port on the switch node, attached to an existing Linux bridge (reach LAN servers). */
  bridge: z.strictObject({ tap: z.string().min(1).max(15), attach: z.string().min(1).max(15) }).optional(),
  /** How many source MACs one client session may send from: 1 = only its own (the `hello`
   * MAC); more lets a client bridge a LAN behind it. */
  macsPerSession: z.number().int().min(1).max(65536).default(1),
  /** Capacity of the segment's MAC table on one node; the least recently used entry gives way when full. */
  macTableSize: z.number().int().min(16).max(4_000_000).default(65536),
  /** A MAC not heard from for this long is forgotten. */
  macAgingSeconds: z.number().int().min(10).max(86400).default(300),
  /** ARP and neighbour discovery inspection. A client session may claim (ARP sender
   * address, NS/NA target, DAD) only the addresses leased to it in its ticket, link-local
   * IPv6 addresses no other session holds, and, when it may source more than one MAC (a
   * bridge), the ticket's `lan` ranges or else `bridgeRanges`. A family is inspected only
   * when the segment has a pool for it (otherwise no address is leased). */
  inspection: z.strictObject({ arp: z.boolean().default(true), nd: z.boolean().default(true) }).prefault({}),
  /** LAN ranges a bridge session (more than one MAC) may claim in ARP and ND, unless its
   * ticket names its own (`lan`, from the user's `lan`). They may overlap the pools (a LAN
   * sharing the segment's subnet); the address leased to an attached session stays its own. */
  bridgeRanges: z.array(cidrSchema).max(64).default([]),
  /** Broadcast, multicast and unknown-unicast frames one client session may make the
   * switch flood, per second (token bucket per ingress port); the excess is dropped
   * (`flood_limit`). A normal LAN host sends a few per second. */
  floodLimit: bucket(1000, 2000, 10_000_000),
});

/** An L3 segment: IP routing. */
export const l3SegmentSchema = z.strictObject({
  name,
  mode: z.literal('l3'),
  ...baseShape,
  /** Prefixes delegated to clients that route a LAN behind them (DTCP's `network` type,
   * the IADs of the original deployment): each such client gets one prefix of `length`
   * from `pool`, sticky per user + device, routed to its session. */
  delegation: z
    .strictObject({
      ipv6: z.strictObject({ pool: v6cidr, length: z.number().int().min(32).max(64).default(56) }).optional(),
      ipv4: z.strictObject({ pool: v4cidr, length: z.number().int().min(8).max(30).default(28) }).optional(),
    })
    .optional(),
  /** The other segments this one may send packets to. Per direction: replies need
   * the reverse entry too, so two segments that talk list each other. */
  reach: z.array(z.string().max(63)).max(256).default([]),
  /** Most routes (session addresses, delegated prefixes, uplink routes) in this segment on one node. */
  maxRoutes: z.number().int().min(16).max(4_000_000).default(262144),
  /** A TUN device on the switch node; packets to `routes` leave by it and the host kernel
   * routes them on (to a LAN). `routes` are pushed to the clients. */
  uplink: z.strictObject({ tun: z.string().min(1).max(15), routes: z.array(z.union([v4cidr, v6cidr])).max(1024).default([]) }).optional(),
  /** ICMP errors and gateway echo replies for one session, per second (under the
   * node-wide budget), so one session cannot use up everybody's. */
  icmpPerSession: bucket(20, 20, 1_000_000),
});

/** Any segment: L2 unless `mode: l3`. A missing `mode` picks the L2 variant. */
export const segmentSchema = z.discriminatedUnion('mode', [l2SegmentSchema, l3SegmentSchema], {
  error: (iss) => (iss.code === 'invalid_union' && iss.note === 'No matching discriminator' ? 'mode must be "l2" or "l3"' : undefined),
});

/** The keys only one mode accepts, for messages that say a key belongs to the other mode. */
export const L2_ONLY_KEYS: readonly string[] = Object.keys(l2SegmentSchema.shape).filter((k) => !(k in l3SegmentSchema.shape));
export const L3_ONLY_KEYS: readonly string[] = Object.keys(l3SegmentSchema.shape).filter((k) => !(k in l2SegmentSchema.shape));

export type L2SegmentDef = z.infer<typeof l2SegmentSchema>;
export type L3SegmentDef = z.infer<typeof l3SegmentSchema>;
export type SegmentDef = z.infer<typeof segmentSchema>;
export type L2SegmentInput = z.input<typeof l2SegmentSchema>;
export type L3SegmentInput = z.input<typeof l3SegmentSchema>;
export type SegmentInput = z.input<typeof segmentSchema>;
