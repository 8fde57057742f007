/**
 * GET /v1/admin/events: Server-Sent Events, `event: stats` about once a second (rates per
 * node, segment and session, ConsoleStatsEvent). One timer for every stream, running only
 * while one is open; at most `max` streams per broker (503 beyond); a stream whose browser
 * reads too slowly is closed rather than buffered without end; a closed connection leaves
 * at once.
 */
import type { ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { ElError, type ConsoleStatsEvent } from '@elink/protocol';
import type { LiveStats, NodeView } from './live-stats.js';

/** Unsent bytes a stream may hold; beyond, the browser is not reading and the stream ends. */
const MAX_BUFFERED = 256 * 1024;

export function statsEvent(views: ReadonlyMap<string, NodeView>, t: number): ConsoleStatsEvent {
  const ev: ConsoleStatsEvent = { t, nodes: {}, segments: {}, sessions: {} };
  for (const v of views.values()) {
    let sessions = 0;
    for (const [name, c] of Object.entries(v.report.segments)) {
      sessions += c.sessions;
      const r = v.segments[name];
      const seg = (ev.segments[name] ??= { rxBps: 0, txBps: 0, rxPps: 0, txPps: 0, sessions: 0 });
      seg.sessions += c.sessions;
      if (r) {
        seg.rxBps += r.rxBps;
        seg.txBps += r.txBps;
        seg.rxPps += r.rxPps;
        seg.txPps += r.txPps;
      }
    }
    ev.nodes[v.node] = { ...v.rates, sessions, drops: v.drops };
    for (const [id, r] of v.sessions) ev.sessions[id] = r;
  }
  return ev;
}

export interface EventStreamsOptions {
  live: LiveStats;
  max: number;
  intervalMs?: number;
  logger: Logger;
  now?: () => number;
}

export class EventStreams {
  readonly #opts: EventStreamsOptions;
  readonly #streams = new Set<ServerResponse>();
  #timer: NodeJS.Timeout | undefined;
  #ticking = false;

  constructor(opts: EventStreamsOptions) {
    this.#opts = opts;
  }

  get size(): number {
    return this.#streams.size;
  }

  /** Takes over the reply as an event stream (throws EL_ERR_UNAVAILABLE when `max` are open). */
  open(request: FastifyRequest, reply: FastifyReply): void {
    if (this.#streams.size >= this.#opts.max) throw new ElError('EL_ERR_UNAVAILABLE', `too many open console event streams (${this.#opts.max}); close a console tab or raise broker.console.maxStreams`);
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-content-type-options': 'nosniff' });
    res.write('retry: 2000\n\n');
    this.#streams.add(res);
    const gone = () => this.#drop(res);
    request.raw.on('close', gone);
    res.on('close', gone);
    res.on('error', gone);
    if (!this.#timer) {
      this.#timer = setInterval(() => void this.#tick(), this.#opts.intervalMs ?? 1000);
      this.#timer.unref();
    }
    void this.#tick();
  }

  /** Ends every stream (the broker closes). */
  close(): void {
    for (const res of [...this.#streams]) res.end();
    this.#streams.clear();
    this.#stopTimer();
  }

  #drop(res: ServerResponse): void {
    if (!this.#streams.delete(res)) return;
    if (!res.destroyed) res.destroy();
    if (this.#streams.size === 0) this.#stopTimer();
  }

  #stopTimer(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async #tick(): Promise<void> {
    if (this.#ticking || this.#streams.size === 0) return;
    this.#ticking = true;
    try {
      const views = await this.#opts.live.current();
      const frame = `event: stats\ndata: ${JSON.stringify(statsEvent(views, (this.#opts.now ?? Date.now)()))}\n\n`;
      for (const res of [...this.#streams]) {
        if (res.writableLength > MAX_BUFFERED) {
          this.#opts.logger.info({ buffered: res.writableLength }, 'console event stream closed: the browser does not read');
          this.#drop(res);
          continue;
        }
        res.write(frame);
      }
    } catch (err) {
      // A store outage: the streams stay open and say so; the next tick tries again.
      const message = err instanceof ElError ? err.message : 'sampling failed';
      for (const res of this.#streams) res.write(`event: error\ndata: ${JSON.stringify({ message })}\n\n`);
      this.#opts.logger.warn({ err: (err as Error).message }, 'console stats sample failed');
    } finally {
      this.#ticking = false;
    }
  }
}
