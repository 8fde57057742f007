/**
 * The set-up most end-to-end files share: an underlay bridge, `elink up` with the
 * segments and users a file needs, and one host (network namespace) per client running
 * `elink connect` with its TAP/TUN `el0`, all up before the first test; everything
 * stopped and removed after the last.
 */
import { afterAll, beforeAll } from 'vitest';
import { createUnderlay, type Underlay } from './netns.js';
import { assertBuilt, elink, stopAll, type Proc } from './processes.js';
import { startServer, type TestServer } from './server.js';

export interface Host {
  ns: string;
  /** The tunnel addresses `link up` reported, without prefix length. */
  v4: string;
  v6: string;
  /** Its `link up` log line as it was (e.g. the pushed `dns`). */
  up: Record<string, unknown>;
}

export interface ConnectedHosts {
  readonly server: TestServer;
  readonly underlay: Underlay;
  host(name: string): Host;
}

/** Host `name` added to the underlay, running `elink connect` (`connect`: its broker, CA,
 * user and password file; `args`: more options) with device `name`; resolves once its link is up. */
export async function connectHost(underlay: Underlay, name: string, connect: string[], args: string[] = []): Promise<Host & { client: Proc }> {
  const { ns } = underlay.addHost(name);
  const client = elink(['connect', ...connect, '--ifname', 'el0', '--device', name, ...args], { ns });
  const up = await client.waitFor((l) => l.msg === 'link up', 30_000, `${name} link up`);
  return { ns, v4: String(up.ipv4).split('/')[0], v6: String(up.ipv6).split('/')[0], up, client };
}

type ServerOptions = Omit<Parameters<typeof startServer>[0], 'gateway'>;

/** Registers beforeAll/afterAll in the calling describe. `hosts`: namespace name, the user
 * it logs in as, and extra `elink connect` arguments (e.g. --no-offload). */
export function useConnectedHosts(opts: ServerOptions & { hosts: { name: string; user: string; args?: string[] }[] }, timeoutMs = 90_000): ConnectedHosts {
  let underlay: Underlay | undefined;
  let server: TestServer | undefined;
  const hosts = new Map<string, Host>();
  beforeAll(async () => {
    assertBuilt();
    underlay = createUnderlay();
    const { hosts: wanted, ...serverOpts } = opts;
    server = await startServer({ ...serverOpts, gateway: underlay.gateway });
    await Promise.all(
      wanted.map(async ({ name, user, args = [] }) => {
        const { ns, v4, v6, up } = await connectHost(underlay!, name, server!.connectArgs(user), args);
        hosts.set(name, { ns, v4, v6, up });
      }),
    );
  }, timeoutMs);
  afterAll(async () => {
    await stopAll();
    underlay?.destroy();
    server?.destroy();
  });
  return {
    get server() {
      return server!;
    },
    get underlay() {
      return underlay!;
    },
    host(name) {
      const h = hosts.get(name);
      if (!h) throw new Error(`no host ${name}`);
      return h;
    },
  };
}
