/**
 * Composes the long-running parts of a process from the config: broker, switch node,
 * admin server. `elink up` runs all three; `elink broker` and `elink switch` one each.
 */
import { readFileSync } from 'node:fs';
import { createPublicKey, type KeyObject } from 'node:crypto';
import type { Logger } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { FastifyInstance } from 'fastify';
import { createBrokerApp, MemoryUserDirectory, type NodeInfo } from '@elink/broker';
import { SwitchNode } from '@elink/switch';
import { fingerprint256 } from '@elink/pki';
import { privateKeyFromPem, publicKeyFromPem } from '@elink/protocol';
import { createAdminServer } from './admin-server.js';
import type { LoadedConfig } from './config.js';

export interface Services {
  broker?: FastifyInstance;
  switchNode?: SwitchNode;
  admin: FastifyInstance;
  registry: Registry;
  /** Where each listener ended up (port 0 in config = ephemeral). */
  endpoints: { broker?: { host: string; port: number }; switch?: { host: string; port: number }; admin: { host: string; port: number } };
  stop(reason: string): Promise<void>;
}

export interface ServiceSelection {
  broker: boolean;
  switch: boolean;
}

export async function startServices(loaded: LoadedConfig, which: ServiceSelection, logger: Logger): Promise<Services> {
  const { config } = loaded;
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const tls = { cert: readFileSync(loaded.path(config.tls.cert)), key: readFileSync(loaded.path(config.tls.key)) };

  let signingKey: KeyObject | undefined;
  if (which.broker) signingKey = privateKeyFromPem(readFileSync(loaded.path(config.broker.signingKey), 'utf8'));

  let switchNode: SwitchNode | undefined;
  if (which.switch) {
    // In one process the switch trusts the broker's key directly; a standalone switch reads
    // the broker's public key(s) from files named in the config.
    const keys: KeyObject[] = signingKey
      ? [createPublicKey(signingKey)]
      : config.switch.ticketKeys.map((p) => publicKeyFromPem(readFileSync(loaded.path(p), 'utf8')));
    if (keys.length === 0) throw new Error('switch.ticketKeys is empty: a standalone switch needs the broker public key(s)');
    switchNode = new SwitchNode({
      nodeId: config.node.id,
      listen: config.switch.listen,
      tls: { ...tls, ciphers: config.switch.ciphers, minVersion: config.switch.minVersion, ecdhCurve: config.switch.ecdhCurve },
      segments: config.segments,
      ticketKeys: () => keys,
      logger: logger.child({ component: 'switch' }),
      registry,
      helloTimeoutMs: config.switch.helloTimeout * 1000,
      maxSessions: config.switch.maxSessions,
    });
    await switchNode.start();
  }

  let broker: FastifyInstance | undefined;
  if (which.broker) {
    const fingerprint = fingerprint256(tls.cert.toString('utf8'));
    const local = switchNode;
    const nodes = (ctx?: { localAddress?: string }): NodeInfo[] =>
      local
        ? [{ node: config.node.id, host: config.switch.advertise ?? unmapV4(ctx?.localAddress) ?? '127.0.0.1', port: local.address().port, fingerprint }]
        : config.broker.nodes;
    broker = await createBrokerApp({
      segments: config.segments,
      users: new MemoryUserDirectory(config.users.map((u) => ({ name: u.name, passwordHash: u.password, segments: u.segments, ...(u.macs ? { macs: u.macs } : {}) }))),
      signingKey: signingKey!,
      nodes,
      ticketTtlSeconds: config.broker.ticketTtl,
      logger: logger.child({ component: 'broker' }),
      registry,
      https: tls,
    });
    await broker.listen({ host: config.broker.listen.host, port: config.broker.listen.port });
  }

  // Ready = every listener of this process accepts connections (the stores join in with Redis).
  const ready = () => (!broker || broker.server.listening) && (!switchNode || switchNode.listening);
  const admin = createAdminServer({ registry, logger, ready });
  await admin.listen({ host: config.admin.host, port: config.admin.port });

  const addr = (app: FastifyInstance) => {
    const a = app.server.address();
    return typeof a === 'object' && a ? { host: a.address, port: a.port } : { host: '', port: 0 };
  };
  return {
    broker,
    switchNode,
    admin,
    registry,
    endpoints: { broker: broker && addr(broker), switch: switchNode?.address(), admin: addr(admin) },
    async stop(reason: string) {
      await broker?.close();
      await switchNode?.stop(reason);
      await admin.close();
    },
  };
}

function unmapV4(a: string | undefined): string | undefined {
  return a?.startsWith('::ffff:') ? a.slice(7) : a;
}
