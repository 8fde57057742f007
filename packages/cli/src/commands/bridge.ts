/**
 * `elink bridge`: a LAN joins an L2 segment through a small process of its own. It is
 * the kernel client with its TAP attached to an existing Linux bridge, so only this
 * process needs NET_ADMIN and /dev/net/tun (on Kubernetes a privileged DaemonSet;
 * switch pods stay unprivileged). Its user needs a MAC allowance (`users[].macs`)
 * for the LAN's stations, or the segment's macsPerSession.
 */
import { ElError } from '@elink/protocol';
import { connectCommand } from './connect.js';

export const bridgeHelp = `elink bridge — attach a Linux bridge (a LAN) to an L2 segment (needs root or CAP_NET_ADMIN)

Usage: elink bridge --attach BRIDGE --broker URL --user NAME --password-file FILE [options]
      --attach BRIDGE       existing Linux bridge the TAP joins (e.g. br-lan)
      --ifname NAME         TAP name (default elb%d)
      and every other option of elink connect (--segment, --device, --ca, --ciphers, --metrics, --log-level)
The TAP gets no addresses: the stations on the bridge are the segment's members.`;

export async function bridgeCommand(argv: string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) return void console.log(bridgeHelp);
  const rest = [...argv];
  const i = rest.findIndex((a) => a === '--attach' || a.startsWith('--attach='));
  if (i < 0) throw new ElError('EL_ERR_INVALID', '--attach BRIDGE is required (see elink bridge --help)');
  const attach = rest[i].includes('=') ? rest[i].slice('--attach='.length) : rest[i + 1];
  rest.splice(i, rest[i].includes('=') ? 1 : 2);
  if (!attach || !/^[\w.-]{1,15}$/.test(attach)) throw new ElError('EL_ERR_INVALID', `--attach needs a bridge name (at most 15 characters), got ${JSON.stringify(attach ?? '')}`);
  if (!rest.some((a) => a === '--ifname' || a.startsWith('--ifname='))) rest.push('--ifname', 'elb%d');
  await connectCommand(rest, { attach });
}
