/**
 * The kernel-mode client: a TAP device (TUN in L3 segments) whose frames travel over
 * the connector's switch session; the OS does TCP/IP. The device outlives reconnects,
 * so sockets on it survive a switch restart; it is removed on stop().
 */
import { EventEmitter } from 'node:events';
import { TunTapDevice } from '@elink/tuntap';
import { ElError, RecordType, softwareSegment, VNET_GSO_UDP_L4, vnetGsoType, type Welcome } from '@elink/protocol';
import { DeviceWriter, FlushScheduler, OutputQueue } from '@elink/transport';
import { Connector, type ConnectorOptions } from './connector.js';
import type { LoginReply } from './login.js';
import { InterfaceConfig } from './netconf.js';
import { DEVICE_READ_BYTES } from './device-read.js';

/** Packets one device wake-up hands over: under a flood of small datagrams, 256 make one
 * TLS write (and 4 UDP super-frames) where 64 made four (+15–20 % 64-byte rate measured,
 * docs/benchmarks.md); a lone packet is read and sent alone either way. */
const READ_BATCH = 256;
/** And at most about this many bytes (plus one packet): 256 TCP super-frames of 64 KiB
 * would be 16 MiB in one write. Half of what the link's queue takes from one read
 * (DEVICE_READ_BYTES, ~4 MiB), in whole 64 KiB: 2 MiB, so a read, the packet past the limit
 * and a record header per packet always fit. */
const READ_BYTES = Math.floor(DEVICE_READ_BYTES / 2 / 65_536) * 65_536;

export interface KernelClientOptions extends ConnectorOptions {
  /** Interface name, or a pattern such as 'el%d' (the default). */
  ifname?: string;
  /** Bridge mode (elink bridge): attach the TAP to this Linux bridge and configure no
   * addresses; the LAN's stations talk through it (the ticket's `macs` must allow them). */
  attach?: string;
  /** Open the device with TSO/checksum offload and offer "gso" and "uso" to the switch:
   * TCP leaves as 64 KiB super-frames instead of MTU-sized frames, and runs of one UDP
   * flow as UDP super-frames. Default true. */
  offload?: boolean;
  /** Awaited once, after the first welcome and before the device gets its addresses (or
   * joins its bridge): the CLI's warm-up and forced collection (issue 14), so the first
   * real packets find warm code and a clean heap. A rejection is the caller's to log; the
   * client goes on. */
  beforeConfigure?: () => Promise<void>;
}

export interface KernelClientStats {
  /** Frames read from the device while no session was up. */
  droppedWhileDown: number;
  /** Frames from the switch the device did not take: its queue refused them
   * (device_drop), more than a tick may hold (queue_full), or no device yet. */
  deviceWriteDrops: number;
  /** deviceWriteDrops by reason: no_device (before the device was open), bad_gso (a UDP
   * super-frame that could not be split for a device without USO), and the device queue's
   * device_drop and queue_full (a device writer has no backlog: no slow_peer). */
  deviceWriteDropsBy: DeviceWriteDrops;
}

export interface DeviceWriteDrops {
  no_device: number;
  bad_gso: number;
  device_drop: number;
  queue_full: number;
}

/** Events: 'up' (welcome, ifname), 'down' (err?), 'fatal' (err) — then the client has stopped. */
export class KernelClient extends EventEmitter {
  readonly connector: Connector;
  private droppedWhileDown = 0;
  /** Frames that arrived before the device was open. */
  private droppedNoDevice = 0;
  /** UDP super-frames from the switch that could not be split for a device without USO. */
  private unsplittable = 0;
  private device: TunTapDevice | undefined;
  private netconf: InterfaceConfig | undefined;
  /** Frames from the switch on their way to the device: written with one native call
   * (writeMany) at the end of each TLS read (the link's scheduler.flushNow()), not one
   * call per frame. */
  private deviceQueue: OutputQueue | undefined;
  /** The client's own scheduler: its arena holds the frames read from the switch (each
   * copied out of the shared read buffer, no new ArrayBuffer per frame), recycled once a
   * flush leaves nothing queued: after each read's device write, as the device copies them. */
  private readonly scheduler = new FlushScheduler();
  private readonly offload: boolean;

  constructor(private readonly opts: KernelClientOptions) {
    super();
    this.offload = opts.offload ?? true;
    const arena = this.scheduler.arena;
    // "uso" is offered before the device exists (hello precedes it): a kernel without
    // USO (< 6.2) gets UDP super-frames split here instead (splitUdp).
    this.connector = new Connector({ ...opts, gso: this.offload, uso: this.offload, scheduler: this.scheduler, allocate: (_type, size) => arena.alloc(size) });
    this.connector.on('frame', (frame: Buffer, gso: boolean) => {
      const q = this.deviceQueue;
      if (q === undefined) this.droppedNoDevice++;
      else if (!gso) q.push(RecordType.FRAME, frame);
      else if (vnetGsoType(frame) !== VNET_GSO_UDP_L4 || this.device!.uso) q.push(RecordType.FRAME_GSO, frame);
      else this.splitUdp(q, frame);
    });
    this.connector.on('up', (welcome: Welcome, reply: LoginReply) => {
      this.onUp(welcome, reply).catch((err: unknown) => this.fatal(err));
    });
    this.connector.on('down', (err?: ElError) => this.emit('down', err));
    this.connector.on('fatal', (err: ElError) => this.fatal(err));
  }

  /** A UDP super-frame for a device whose kernel does not take one: its datagrams, one by one. */
  private splitUdp(q: OutputQueue, packet: Buffer): void {
    const l2 = this.device!.mode === 'tap';
    const frames = softwareSegment(packet, l2);
    if (frames === undefined) {
      this.unsplittable++;
      return;
    }
    for (const f of frames) q.push(RecordType.FRAME, f);
  }

  get stats(): KernelClientStats {
    const d = this.deviceQueue?.drops;
    return {
      droppedWhileDown: this.droppedWhileDown,
      deviceWriteDrops: this.droppedNoDevice + this.unsplittable + (d ? d.device_drop + d.queue_full + d.slow_peer : 0),
      deviceWriteDropsBy: { no_device: this.droppedNoDevice, bad_gso: this.unsplittable, device_drop: d?.device_drop ?? 0, queue_full: d?.queue_full ?? 0 },
    };
  }

  get ifname(): string | undefined {
    return this.device?.name;
  }

  start(): void {
    this.connector.start();
  }

  async stop(reason = 'client stopping'): Promise<void> {
    await this.connector.stop(reason);
    this.deviceQueue?.close();
    this.device?.close();
    this.device = undefined;
  }

  private async onUp(welcome: Welcome, reply: LoginReply): Promise<void> {
    const { logger } = this.opts;
    if (!this.device) {
      const device = TunTapDevice.open({
        mode: welcome.mode === 'l3' ? 'tun' : 'tap',
        name: this.opts.ifname ?? (welcome.mode === 'l3' ? 'elt%d' : 'el%d'),
        mtu: welcome.mtu,
        ...(welcome.mode === 'l2' && reply.mac ? { mac: reply.mac } : {}),
        up: true,
        // Also with a switch that did not agree to gso (then the link segments here): the
        // device outlives reconnects, possibly to a node that does agree.
        offload: this.offload,
        // The listener below copies every packet into the TLS write before it returns.
        reuseBuffers: true,
        batch: READ_BATCH,
        readBytes: READ_BYTES,
      });
      device.on(
        'packets',
        device.offload
          ? (packets: Buffer[]) => {
              if (!this.connector.sendVnetPackets(packets)) this.droppedWhileDown += packets.length;
            }
          : (packets: Buffer[]) => {
              if (!this.connector.sendFrames(packets)) this.droppedWhileDown += packets.length;
            },
      );
      device.on('error', (err: Error) => logger.error({ err: err.message, ifname: device.name }, 'device read error'));
      this.device = device;
      this.deviceQueue = new OutputQueue(new DeviceWriter(device), { scheduler: this.scheduler });
      this.netconf = new InterfaceConfig(device.name);
      const before = this.opts.beforeConfigure;
      if (before) await before().catch(() => undefined);
    } else {
      this.device.setMtu(welcome.mtu);
    }
    if (this.opts.attach) {
      await this.netconf!.attachTo(this.opts.attach);
      logger.info({ ifname: this.device.name, bridge: this.opts.attach, mtu: welcome.mtu, mac: reply.mac }, 'interface attached to bridge');
      this.emit('up', welcome, this.device.name);
      return;
    }
    const addresses = [welcome.ipv4?.address, welcome.ipv6?.address].filter((a): a is string => !!a);
    await this.netconf!.setAddresses(addresses);
    const routes = welcome.mode === 'l3' ? (welcome.routes ?? []).filter((r) => !r.via).map((r) => r.to) : [];
    await this.netconf!.setRoutes(routes);
    logger.info({ ifname: this.device.name, addresses, routes, prefix: welcome.prefix, prefix4: welcome.prefix4, mtu: welcome.mtu, mac: reply.mac, dns: welcome.dns?.servers, search: welcome.dns?.search }, 'interface configured');
    this.emit('up', welcome, this.device.name);
  }

  private fatal(e: unknown): void {
    const err = e instanceof ElError ? e : new ElError('EL_ERR_INTERNAL', String(e), { cause: e });
    void this.stop('client error').finally(() => this.emit('fatal', err));
  }
}
