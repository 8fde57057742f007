/** Test helper (only for tests): a SwitchNode on 127.0.0.1 with captured logs. */
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { Registry } from 'prom-client';
import { segmentSchema, type L2SegmentDef, type L2SegmentInput, type L3SegmentDef, type L3SegmentInput, type SegmentDef, type SegmentInput } from '@elink/protocol';
import { SwitchNode, type SwitchNodeOptions } from '../node/switch-node.js';
import { afterEach, beforeAll } from 'vitest';
import { makeFixture, TestClient, type Fixture } from './test-client.js';

export interface LogLine {
  level: number;
  msg: string;
  [k: string]: unknown;
}

export interface TestNode {
  node: SwitchNode;
  logs: LogLine[];
  registry: Registry;
  connect(opts?: { alpn?: string[]; autoPong?: boolean; localAddress?: string }): Promise<TestClient>;
}

/** A parsed segment definition; the variant follows `mode` (L2 without it). */
export function segment(input: L3SegmentInput & { mode: 'l3' }): L3SegmentDef;
export function segment(input: L2SegmentInput): L2SegmentDef;
export function segment(input: SegmentInput): SegmentDef;
export function segment(input: SegmentInput): SegmentDef {
  return segmentSchema.parse(input);
}

/** A debug-level pino logger whose JSON lines are parsed into `logs`, for tests that check what was logged. */
export function capturedLogger(): { logger: Logger; logs: LogLine[] } {
  const logs: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split('\n')) if (line) logs.push(JSON.parse(line) as LogLine);
      cb();
    },
  });
  return { logger: pino({ level: 'debug' }, sink), logs };
}

export async function startNode(fx: Fixture, over: Partial<SwitchNodeOptions> = {}): Promise<TestNode> {
  const { logger, logs } = capturedLogger();
  const registry = new Registry();
  const node = new SwitchNode({
    nodeId: 'sw-test',
    listen: { host: '127.0.0.1', port: 0 },
    tls: { cert: fx.certPem, key: fx.keyPem },
    segments: [segment({ name: 'lan' }), segment({ name: 'other' })],
    ticketKeys: () => [fx.ticketKey.publicKey],
    logger,
    registry,
    closeGraceMs: 300,
    ...over,
  });
  await node.start();
  const { port } = node.address();
  return {
    node,
    logs,
    registry,
    connect: (opts = {}) => TestClient.connect({ host: '127.0.0.1', port, ca: fx.caPem, ...opts }),
  };
}

/**
 * The per-file harness of the TLS tests: one fixture (CA, certificate, ticket key) for the
 * file, and the nodes and clients each test starts, stopped after it. `fx` is usable inside
 * tests (it forwards to the fixture made in beforeAll).
 */
export function useSwitchHarness(): {
  fx: Fixture;
  running: TestNode[];
  clients: TestClient[];
  node(over?: Partial<SwitchNodeOptions>): Promise<TestNode>;
} {
  let made: Fixture | undefined;
  const running: TestNode[] = [];
  const clients: TestClient[] = [];
  beforeAll(async () => {
    made = await makeFixture();
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.destroy();
    for (const t of running.splice(0)) await t.node.stop();
  });
  const fx = new Proxy({} as Fixture, {
    get(_target, key) {
      if (!made) throw new Error('the switch test fixture exists only inside tests (after beforeAll)');
      return made[key as keyof Fixture];
    },
  });
  return {
    fx,
    running,
    clients,
    async node(over = {}) {
      const t = await startNode(fx, over);
      running.push(t);
      return t;
    },
  };
}
