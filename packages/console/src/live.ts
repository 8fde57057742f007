/**
 * The live statistics: one EventSource on GET /v1/admin/events for the whole console, its
 * `stats` events folded into bounded series per node, segment and session, and the pages
 * told that something new arrived. The browser reconnects an EventSource by itself; a stream
 * refused (signed out) is closed and reported.
 */
import type { StatsEvent } from './api.js';
import { Series, SeriesMap } from './series.js';

/** Five minutes at one event a second. */
export const HISTORY_POINTS = 300;
/** Sessions come and go: only this many keep a series in the browser. */
export const MAX_SERIES = 2000;

export const RATE_NAMES = ['rx bit/s', 'tx bit/s'] as const;
export const PACKET_NAMES = ['rx pkt/s', 'tx pkt/s'] as const;

export type LiveState = 'connecting' | 'open' | 'closed';

/** What Live needs of an EventSource (tests hand it an EventTarget they fire events on). */
export interface EventStream {
  addEventListener(type: string, listener: (e: Event) => void): void;
  close(): void;
  readonly readyState: number;
}
const CLOSED = 2; // EventSource.CLOSED

export class Live {
  readonly series = new SeriesMap(HISTORY_POINTS, MAX_SERIES);
  last: StatsEvent | undefined;
  state: LiveState = 'closed';
  private source: EventStream | undefined;
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly url = '/v1/admin/events',
    private readonly open: (url: string) => EventStream = (u) => new EventSource(u, { withCredentials: true }),
  ) {}

  start(): void {
    if (this.source) return;
    this.state = 'connecting';
    const es = this.open(this.url);
    this.source = es;
    es.addEventListener('open', () => this.setState('open'));
    es.addEventListener('error', () => this.setState(es.readyState === CLOSED ? 'closed' : 'connecting'));
    es.addEventListener('stats', (e) => {
      try {
        this.ingest(JSON.parse((e as MessageEvent<string>).data) as StatsEvent);
      } catch {
        // A malformed event is skipped; the next one a second later carries the full state.
      }
    });
  }

  stop(): void {
    this.source?.close();
    this.source = undefined;
    this.setState('closed');
  }

  /** Folds one event into the series (public for tests). */
  ingest(ev: StatsEvent): void {
    // The broker sends milliseconds; uPlot's time axis wants seconds.
    const t = ev.t > 1e11 ? ev.t / 1000 : ev.t;
    for (const [node, r] of Object.entries(ev.nodes ?? {})) {
      this.series.get(`node:${node}:bits`, RATE_NAMES).push(t, [r.rxBps * 8, r.txBps * 8]);
      this.series.get(`node:${node}:packets`, PACKET_NAMES).push(t, [r.rxPps, r.txPps]);
      const reasons = Object.keys(r.drops ?? {}).sort();
      if (reasons.length > 0) this.series.get(`node:${node}:drops`, reasons).push(t, reasons.map((k) => r.drops[k]!));
    }
    for (const [name, r] of Object.entries(ev.segments ?? {})) {
      this.series.get(`segment:${name}:bits`, RATE_NAMES).push(t, [r.rxBps * 8, r.txBps * 8]);
      this.series.get(`segment:${name}:packets`, PACKET_NAMES).push(t, [r.rxPps, r.txPps]);
    }
    for (const [id, r] of Object.entries(ev.sessions ?? {})) this.series.get(`session:${id}:bits`, RATE_NAMES).push(t, [r.rxBps * 8, r.txBps * 8]);
    this.last = ev;
    this.emit();
  }

  /** Seeds a session's series from the broker's history (GET /v1/admin/sessions/:id). */
  seed(key: string, points: readonly { t: number; rxBps: number; txBps: number }[]): Series {
    const s = this.series.get(key, RATE_NAMES);
    for (const p of points) s.push(p.t > 1e11 ? p.t / 1000 : p.t, [p.rxBps * 8, p.txBps * 8]);
    return s;
  }

  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private setState(s: LiveState): void {
    if (this.state === s) return;
    this.state = s;
    this.emit();
  }

  private emit(): void {
    for (const fn of this.listeners) fn();
  }
}
