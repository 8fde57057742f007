/**
 * The bench topology: a server and two clients, each in its own network namespace,
 * on one bridge (underlay 198.18.250.0/24; server .1, clients .11 and .12). Names
 * carry this process's pid (`elb<pid>…`) so a later run removes what a crashed run
 * left behind and two runs never collide.
 */
import { spawnSync } from 'node:child_process';
import { must } from './proc.js';

export interface Host {
  name: string;
  ns: string;
  address: string;
}

export interface Topology {
  server: Host;
  clients: [Host, Host];
  destroy(): void;
}

const NET = '198.18.250';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Removes namespaces and links of earlier runs whose process is gone. */
export function reapStale(): void {
  for (const line of must('ip', ['netns', 'list']).split('\n')) {
    const m = /^(elb(\d+)_\S*)/.exec(line);
    if (m && !alive(Number(m[2]))) spawnSync('ip', ['netns', 'del', m[1]]);
  }
  for (const line of must('ip', ['-o', 'link', 'show']).split('\n')) {
    const m = /^\d+: (elb(\d+)[a-z][^:@]*)/.exec(line);
    if (m && !alive(Number(m[2]))) spawnSync('ip', ['link', 'del', m[1]]);
  }
}

export function createTopology(): Topology {
  reapStale();
  const tag = `elb${process.pid}`;
  const bridge = `${tag}br`;
  must('ip', ['link', 'add', bridge, 'type', 'bridge']);
  must('ip', ['link', 'set', bridge, 'up']);
  const made: string[] = [];
  const veths: string[] = [];
  // Deleting a namespace frees its veth only once the kernel has torn the namespace down,
  // after the last process in it has exited (asynchronous): delete our end of each pair
  // explicitly, which removes both ends at once.
  const removeAll = (): void => {
    for (const v of veths) spawnSync('ip', ['link', 'del', v]);
    for (const ns of made) spawnSync('ip', ['netns', 'del', ns]);
    spawnSync('ip', ['link', 'del', bridge]);
  };
  const host = (name: string, i: number, last: number): Host => {
    const ns = `${tag}_${name}`;
    must('ip', ['netns', 'add', ns]);
    made.push(ns);
    const outside = `${tag}v${i}`;
    must('ip', ['link', 'add', outside, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
    veths.push(outside);
    must('ip', ['link', 'set', outside, 'master', bridge, 'up']);
    must('ip', ['-n', ns, 'addr', 'add', `${NET}.${last}/24`, 'dev', 'eth0']);
    must('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
    must('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    return { name, ns, address: `${NET}.${last}` };
  };
  try {
    const server = host('srv', 0, 1);
    const clients: [Host, Host] = [host('c1', 1, 11), host('c2', 2, 12)];
    return {
      server,
      clients,
      destroy() {
        // Anything still running in a namespace (a daemon that forked away) is ours: end it.
        for (const ns of made) {
          for (const pid of spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).stdout.split('\n').map(Number)) {
            try {
              if (pid) process.kill(pid, 'SIGKILL');
            } catch {
              // gone already
            }
          }
        }
        removeAll();
      },
    };
  } catch (err) {
    removeAll();
    throw err;
  }
}
