import { describe, expect, it } from 'vitest';
import { configSchema, type Config } from './config.js';
import { diffConfig, MAX_RESTART_PATHS, summarize } from './config-diff.js';

const hash = '$scrypt$N=16384,r=8,p=1$c2FsdA$aGFzaA';
const other = '$scrypt$N=16384,r=8,p=1$c2FsdA$b3RoZXI';

function config(edit: (raw: Record<string, any>) => void = () => {}): Config {
  const raw: Record<string, any> = {
    node: { id: 'n1' },
    segments: [
      { name: 'lab', ipv4: { pool: '198.19.0.0/16' } },
      { name: 'ops', mode: 'l3', ipv4: { pool: '198.19.128.0/24' } },
    ],
    users: [
      { name: 'alice', password: hash, segments: ['lab'] },
      { name: 'bob', password: hash, segments: ['lab', 'ops'] },
    ],
  };
  edit(raw);
  return configSchema.parse(raw);
}

const both = { broker: true, switch: true };

describe('diffConfig', () => {
  it('finds nothing between equal configurations', () => {
    const c = diffConfig(config(), config(), both);
    expect(c).toEqual({ users: { added: [], removed: [], changed: [] }, segmentsAdded: [], segmentsChanged: [], tlsPaths: false, caPath: false, restart: [] });
  });

  it("takes the trunks' trust live: the cluster CA's files (new paths), a CA added or removed, requireCert; a secret changed with it needs a restart", () => {
    const secret = { secret: 'a-trunk-secret-of-16+' };
    const withCa = (dir: string, more: Record<string, unknown> = {}) => config((r) => (r.switch = { trunk: { ca: `${dir}/ca.pem`, cert: `${dir}/n1.pem`, key: `${dir}/n1-key.pem`, ...more } }));
    expect(diffConfig(withCa('old'), withCa('new'), both).restart).toEqual([]);
    const plain = config((r) => (r.switch = { trunk: secret }));
    expect(diffConfig(plain, withCa('new', { ...secret, requireCert: false }), both).restart).toEqual([]);
    expect(diffConfig(withCa('new', { ...secret, requireCert: false }), withCa('new', secret), both).restart).toEqual([]);
    expect(diffConfig(withCa('old', secret), plain, both).restart).toEqual([]);
    // The secret is not live (reload.ts then holds the CA's change back with it).
    expect(diffConfig(plain, withCa('new'), both).restart).toEqual(['switch.trunk.secret']);
    // A broker alone has no trunks.
    expect(diffConfig(plain, withCa('new'), { broker: true, switch: false }).restart).toEqual([]);
  });

  it('names added, removed and changed users (password, segments, macs, lan, digest) and needs no restart for them', () => {
    const next = config((r) => {
      r.users = [
        { name: 'alice', password: other, segments: ['lab'] },
        { name: 'carol', password: hash, segments: ['ops'] },
        { name: 'dave', password: hash, segments: ['lab'] },
      ];
    });
    const c = diffConfig(config(), next, both);
    expect(c.users).toEqual({ added: ['carol', 'dave'], removed: ['bob'], changed: ['alice'] });
    expect(c.restart).toEqual([]);
    for (const change of [{ segments: ['lab', 'ops'] }, { macs: 16 }, { lan: ['192.168.7.0/24'] }, { digestSecret: 'a-digest-secret' }]) {
      const n = config((r) => Object.assign(r.users[0], change));
      expect(diffConfig(config(), n, both).users.changed, JSON.stringify(change)).toEqual(['alice']);
    }
  });

  it('applies the log level and TLS paths live', () => {
    const next = config((r) => {
      r.log = { level: 'debug' };
      r.tls = { cert: 'new.pem', key: 'new.key', ca: 'new-ca.pem' };
    });
    const c = diffConfig(config(), next, both);
    expect(c.logLevel).toEqual({ from: 'info', to: 'debug' });
    expect(c.tlsPaths).toBe(true);
    expect(c.caPath).toBe(true);
    expect(c.restart).toEqual([]);
  });

  it('names every setting that needs a restart by its path: ports, store, node id, limits, segment settings, removed segments; adds new segments live', () => {
    const next = config((r) => {
      r.broker = { listen: { port: 9443 }, store: { type: 'redis', url: 'redis://127.0.0.1:6379' } };
      r.switch = { listen: { host: '127.0.0.1' }, maxSessions: 10 };
      r.admin = { port: 9200 };
      r.node = { id: 'n2' };
      r.limits = { pending: 5 };
      r.segments[0].mode = 'l3';
      r.segments[0].mtu = 1400;
      r.segments[1] = { name: 'new', ipv4: { pool: '198.19.200.0/24' } };
      r.users[1].segments = ['lab'];
    });
    const c = diffConfig(config(), next, both);
    expect(c.restart).toEqual([
      'node.id',
      'broker.listen.port',
      'broker.store',
      'switch.listen.host',
      'switch.maxSessions',
      'admin.port',
      'limits.pending',
      // A new mode is a new kind of segment: its other keys (mtu here) are not listed one by one.
      'segments.lab.mode',
      'segments.ops (removed)',
    ]);
    expect(diffConfig(config(), config((r) => (r.segments[0].mtu = 1400)), both).restart).toEqual(['segments.lab.mtu']);
    expect(c.segmentsAdded).toEqual(['new']);
    expect(c.segmentsChanged).toEqual([]);
    expect(c.users.changed).toEqual(['bob']);
  });

  it('names each new switch setting (timeouts, replay cache, queue and L3 limits) as needing a restart', () => {
    const next = config((r) => {
      r.switch = { writeTimeout: 5, closeGrace: 0.5, replayCacheSize: 5000, queue: { maxFrames: 128, highWaterBytes: 131072 }, l3: { icmpRate: 10 } };
    });
    expect(diffConfig(config(), next, both).restart).toEqual([
      'switch.writeTimeout',
      'switch.closeGrace',
      'switch.replayCacheSize',
      'switch.queue.maxFrames',
      'switch.queue.highWaterBytes',
      'switch.l3.icmpRate',
    ]);
    // A broker alone has no switch: its settings are not named.
    expect(diffConfig(config(), next, { broker: true, switch: false }).restart).toEqual([]);
  });

  it('changes live settings of a known segment (keepalive, flood limit, MAC limit and aging, route and ICMP limits) without a restart', () => {
    const next = config((r) => {
      Object.assign(r.segments[0], { keepalive: { interval: 5, timeout: 20 }, floodLimit: { rate: 10, burst: 20 }, macsPerSession: 4, macAgingSeconds: 60 });
      Object.assign(r.segments[1], { maxRoutes: 1000, icmpPerSession: { rate: 5, burst: 5 }, reach: ['lab'] });
    });
    const c = diffConfig(config(), next, both);
    expect(c.segmentsChanged).toEqual(['lab', 'ops']);
    // reach changes the routes pushed at welcome: not live.
    expect(c.restart).toEqual(['segments.ops.reach']);
  });

  it('a standalone switch: its brokers’ CA path is live, their URLs need a restart', () => {
    const link = { urls: ['https://127.0.0.1:8443'], clusterSecret: 'cluster-secret-0123456789' };
    const prev = config((r) => (r.switch = { broker: link }));
    const next = config((r) => (r.switch = { broker: { ...link, ca: 'brokers-ca.pem', urls: ['https://127.0.0.2:8443'] } }));
    const c = diffConfig(prev, next, { broker: false, switch: true });
    expect(c.caPath).toBe(true);
    expect(c.restart).toEqual(['switch.broker.urls']);
  });

  it('ignores the sections a process does not run: a switch alone has no users or broker settings', () => {
    const next = config((r) => {
      r.broker = { listen: { port: 9443 } };
      r.users = [];
      r.switch = { listen: { port: 5443 } };
    });
    expect(diffConfig(config(), next, { broker: false, switch: true })).toMatchObject({ users: { added: [], removed: [], changed: [] }, restart: ['switch.listen.port'] });
    expect(diffConfig(config(), next, { broker: true, switch: false })).toMatchObject({ users: { removed: ['alice', 'bob'] }, restart: ['broker.listen.port'] });
  });

  it('caps the restart list so one line stays readable', () => {
    const many = config((r) => {
      r.segments = Array.from({ length: 80 }, (_, i) => ({ name: `s${i}`, mtu: 1400 }));
      r.users = [];
    });
    const before = config((r) => {
      r.segments = Array.from({ length: 80 }, (_, i) => ({ name: `s${i}` }));
      r.users = [];
    });
    const c = diffConfig(before, many, both);
    expect(c.restart).toHaveLength(MAX_RESTART_PATHS + 1);
    expect(c.restart.at(-1)).toBe(`… ${80 - MAX_RESTART_PATHS} more`);
  });

  it('summarizes as counts', () => {
    const next = config((r) => {
      r.users.push({ name: 'carol', password: hash, segments: ['lab'] });
      r.admin = { port: 1 };
    });
    expect(summarize(diffConfig(config(), next, both), true, false)).toEqual({ usersAdded: 1, usersRemoved: 0, usersChanged: 0, segmentsAdded: 0, segmentsChanged: 0, tls: true, ca: false, trunkTls: false, restartNeeded: 1 });
  });
});
