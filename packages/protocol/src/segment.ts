/**
 * A segment: one virtual network. The broker and every switch node hosting it share
 * this definition (from the config file now, from the broker's registry later).
 */
import { isIP } from 'node:net';
import { z } from 'zod';

const v4cidr = z.string().refine((s) => /^[\d.]+\/\d{1,2}$/.test(s) && isIP(s.split('/')[0]) === 4 && Number(s.split('/')[1]) <= 32, 'an IPv4 prefix like 198.19.0.0/16');
const v6cidr = z.string().refine((s) => /^[0-9a-fA-F:]+\/\d{1,3}$/.test(s) && isIP(s.split('/')[0]) === 6 && Number(s.split('/')[1]) <= 128, 'an IPv6 prefix like fd00:e1::/64');
/** An IPv4 or IPv6 prefix: a LAN range a bridge may claim. */
export const cidrSchema = z.union([v4cidr, v6cidr]);

/** A token bucket: `rate` per second on average, `burst` at once. */
const bucket = (rate: number, burst: number, maxRate: number) =>
  z.object({ rate: z.number().int().min(1).max(maxRate).default(rate), burst: z.number().int().min(1).max(maxRate).default(burst) }).default({ rate, burst });

export const segmentSchema = z.object({
  name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'lower-case letters, digits, - and _, at most 63'),
  mode: z.enum(['l2', 'l3']).default('l2'),
  mtu: z.number().int().min(1280).max(9000).default(1500),
  /** Address pools. The first usable address is reserved as the gateway unless `gateway` says otherwise. */
  ipv4: z.object({ pool: v4cidr, gateway: z.string().optional() }).optional(),
  ipv6: z.object({ pool: v6cidr, gateway: z.string().optional() }).optional(),
  /** Prefixes delegated to clients that route a LAN behind them (DTCP's `network` type,
   * the IADs of the original deployment): each such client gets one prefix of `length`
   * from `pool`, sticky per user + device, routed to its session (L3 segments). */
  delegation: z
    .object({
      ipv6: z.object({ pool: v6cidr, length: z.number().int().min(32).max(64).default(56) }).optional(),
      ipv4: z.object({ pool: v4cidr, length: z.number().int().min(8).max(30).default(28) }).optional(),
    })
    .optional(),
  /** L3: the other segments this one may send packets to. Per direction: replies need
   * the reverse entry too, so two segments that talk list each other. */
  reach: z.array(z.string().max(63)).max(256).default([]),
  /** L3: most routes (session addresses, delegated prefixes, uplink routes) in this segment on one node. */
  maxRoutes: z.number().int().min(16).max(4_000_000).default(262144),
  /** L2: a TAP port on the switch node, attached to an existing Linux bridge (reach LAN servers). */
  bridge: z.object({ tap: z.string().min(1).max(15), attach: z.string().min(1).max(15) }).optional(),
  /** L3: a TUN device on the switch node; packets to `routes` leave by it and the host kernel
   * routes them on (to a LAN). `routes` are pushed to the clients. */
  uplink: z.object({ tun: z.string().min(1).max(15), routes: z.array(z.union([v4cidr, v6cidr])).max(1024).default([]) }).optional(),
  /** How many source MACs one client session may send from: 1 = only its own (the `hello`
   * MAC); more lets a client bridge a LAN behind it. */
  macsPerSession: z.number().int().min(1).max(65536).default(1),
  /** Capacity of the segment's MAC table on one node; the least recently used entry gives way when full. */
  macTableSize: z.number().int().min(16).max(4_000_000).default(65536),
  /** A MAC not heard from for this long is forgotten. */
  macAgingSeconds: z.number().int().min(10).max(86400).default(300),
  /** L2: ARP and neighbour discovery inspection. A client session may claim (ARP sender
   * address, NS/NA target, DAD) only the addresses leased to it in its ticket, link-local
   * IPv6 addresses no other session holds, and, when it may source more than one MAC (a
   * bridge), the ticket's `lan` ranges or else `bridgeRanges`. A family is inspected only
   * when the segment has a pool for it (otherwise no address is leased). */
  inspection: z.object({ arp: z.boolean().default(true), nd: z.boolean().default(true) }).default({ arp: true, nd: true }),
  /** L2: LAN ranges a bridge session (more than one MAC) may claim in ARP and ND, unless its
   * ticket names its own (`lan`, from the user's `lan`). They may overlap the pools (a LAN
   * sharing the segment's subnet); the address leased to an attached session stays its own. */
  bridgeRanges: z.array(cidrSchema).max(64).default([]),
  /** L2: broadcast, multicast and unknown-unicast frames one client session may make the
   * switch flood, per second (token bucket per ingress port); the excess is dropped
   * (`flood_limit`). A normal LAN host sends a few per second. */
  floodLimit: bucket(1000, 2000, 10_000_000),
  /** L3: ICMP errors and gateway echo replies for one session, per second (under the
   * node-wide budget), so one session cannot use up everybody's. */
  icmpPerSession: bucket(20, 20, 1_000_000),
  keepalive: z
    .object({ interval: z.number().min(1).max(3600).default(15), timeout: z.number().min(3).max(86400).default(45) })
    // A timeout shorter than two intervals ends healthy sessions whenever one ping is late.
    .refine((k) => k.timeout >= 2 * k.interval, { message: 'timeout must be at least twice the interval', path: ['timeout'] })
    .default({ interval: 15, timeout: 45 }),
});

export type SegmentDef = z.infer<typeof segmentSchema>;
export type SegmentInput = z.input<typeof segmentSchema>;
