/**
 * Applies what the switch pushed (addresses, MTU) to the OS with iproute2, the
 * one tool every Linux host has. Only addresses this process added are removed.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ElError } from '@elink/protocol';

const run = promisify(execFile);

async function ip(args: string[]): Promise<void> {
  try {
    await run('ip', args, { timeout: 10_000 });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new ElError('EL_ERR_TUNTAP', `ip ${args.join(' ')} failed: ${(err.stderr ?? err.message).trim()}`, { cause: e });
  }
}

export class InterfaceConfig {
  private applied: string[] = [];
  private routes: string[] = [];

  constructor(readonly ifname: string) {}

  /** Makes the interface carry exactly `addresses` (CIDR) among those we manage. */
  async setAddresses(addresses: readonly string[]): Promise<void> {
    for (const old of this.applied) {
      if (!addresses.includes(old)) await ip([...family(old), 'addr', 'del', old, 'dev', this.ifname]).catch(() => undefined);
    }
    for (const addr of addresses) {
      // nodad: the broker guarantees uniqueness, and DAD would delay the first packets by seconds.
      await ip([...family(addr), 'addr', 'replace', addr, 'dev', this.ifname, ...(addr.includes(':') ? ['nodad'] : [])]);
    }
    this.applied = [...addresses];
  }

  /** Makes exactly `prefixes` (CIDR) route into the interface, among those we manage.
   * On a TUN (point to point) no next hop is needed: the switch is the other end. */
  async setRoutes(prefixes: readonly string[]): Promise<void> {
    for (const old of this.routes) {
      if (!prefixes.includes(old)) await ip([...family(old), 'route', 'del', old, 'dev', this.ifname]).catch(() => undefined);
    }
    for (const to of prefixes) await ip([...family(to), 'route', 'replace', to, 'dev', this.ifname]);
    this.routes = [...prefixes];
  }

  /** Makes the interface a port of Linux bridge `bridge` (elink bridge). */
  async attachTo(bridge: string): Promise<void> {
    await ip(['link', 'set', 'dev', this.ifname, 'master', bridge, 'up']);
  }
}

function family(addr: string): string[] {
  return addr.includes(':') ? ['-6'] : ['-4'];
}
