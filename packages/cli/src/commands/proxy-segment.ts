/**
 * The one piece `elink proxy` takes from the user-mode stack (@elink/stack): a session to
 * the segment (login, tickets, device key, reconnects) terminated in the in-process
 * TCP/IP stack, offered as a NetLike whose names resolve with the --dns servers, else
 * those the segment pushes in welcome.
 */
import type { ElError } from '@elink/protocol';
import { SegmentStack, type ChosenDns, type SegmentStackOptions } from '@elink/stack';
import type { NetLike } from '@elink/proxy';

export type SegmentOptions = Pick<SegmentStackOptions, 'broker' | 'credentials' | 'ca' | 'ciphers' | 'transport' | 'proxy' | 'deviceKey' | 'logger' | 'dns'>;

/** The segment as this process sees it: up once `welcome` configured the stack. */
export interface Segment extends NetLike {
  /** The addresses `welcome` gave the stack, for the log. */
  readonly addresses: { ipv4?: string; ipv6?: string };
  /** The DNS servers names resolve with, and whence: --dns ('option') or welcome. */
  readonly dns: ChosenDns;
  /** Ends the session (`bye`) and the stack. */
  stop(reason: string): Promise<void>;
  /** 'fatal' (err: ElError): the session ended for good (the same failures as elink connect). */
  on(event: 'fatal', listener: (err: ElError) => void): this;
  /** 'down' (err?): the session was lost; the stack logs in again by itself ('up' then). */
  on(event: 'down', listener: (err?: ElError) => void): this;
  on(event: 'up', listener: () => void): this;
}

/** The stack, not yet logged in: what --metrics reads (its Connector and counters) exists
 * before the first session, so the listener can fail before a login is spent. */
export function segmentStack(options: SegmentOptions): SegmentStack {
  return new SegmentStack(options);
}

/** Starts `stack`; resolves once the first session is up; rejects as `elink connect` would stop (wrong password, …). */
export function joinSegment(stack: SegmentStack): Promise<Segment> {
  return SegmentStack.started(stack);
}
