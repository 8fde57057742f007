/**
 * Packaging, tested without a container engine or a running systemd (there are none here):
 * deploy/Dockerfile is linted and its stages are played out in temp directories — the build
 * stage's COPY steps from the build context as .dockerignore leaves it, its `scripts/pack.sh`,
 * and the runtime stage's `npm install -g --offline` of the packed tarball into a prefix that
 * stands for the image's /usr/local. What lands there is checked file by file, and the
 * installed `elink` is run as a user would. The systemd units in deploy/systemd are checked
 * with `systemd-analyze verify` against that installed `elink`.
 */
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { get as httpsGet } from 'node:https';
import { createRequire, isBuiltin } from 'node:module';
import { DockerfileParser, type Instruction } from 'dockerfile-ast';
import ts from 'typescript';
import { validate } from 'dockerfile-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, freePort } from './lib/processes.js';

// A CommonJS module whose typings claim an ES default export: load it as what it is.
const dockerignore = createRequire(import.meta.url)('@balena/dockerignore') as typeof import('@balena/dockerignore').default;
const root = fileURLToPath(new URL('..', import.meta.url));
const dockerfileText = readFileSync(join(root, 'deploy/Dockerfile'), 'utf8');
const pinnedNode = readFileSync(join(root, '.node-version'), 'utf8').trim();
// This Node (the one make test runs, 24) first on PATH for npm, pack.sh and the installed bin.
const nodeBin = dirname(process.execPath);
const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${nodeBin}:${process.env.PATH ?? ''}`, npm_config_update_notifier: 'false' };

function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeout?: number } = {}): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { cwd: opts.cwd ?? root, env: opts.env ?? env, encoding: 'utf8', timeout: opts.timeout ?? 120_000 });
}

function must(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeout?: number } = {}): string {
  const r = run(cmd, args, opts);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal ?? r.error?.message}):\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** Every file under dir, as paths relative to it (symlinks not followed). */
function walk(dir: string, base = dir): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? walk(p, base) : [relative(base, p)];
  });
}

interface Stage {
  name: string | null;
  image: string;
  instructions: Instruction[];
}

function stages(): Stage[] {
  const out: Stage[] = [];
  const df = DockerfileParser.parse(dockerfileText);
  for (const ins of df.getInstructions()) {
    if (ins.getKeyword() === 'FROM') {
      const args = ins.getArguments().map((a) => a.getValue());
      const image = args[0]!.replace(/^\$\{?(\w+)\}?$/, (_, v: string) => df.resolveVariable(v, ins.getRange().start.line) ?? '');
      out.push({ name: args[2] ?? null, image, instructions: [] });
    } else out.at(-1)?.instructions.push(ins);
  }
  return out;
}

/** The build context: the repository's files (git's view) that .dockerignore lets through. */
function buildContext(): string[] {
  const files = must('git', ['ls-files', '--cached', '--others', '--exclude-standard']).split('\n').filter(Boolean);
  const ignore = dockerignore({ ignorecase: false }).add(readFileSync(join(root, '.dockerignore'), 'utf8'));
  return ignore.filter(files.filter((f) => existsSync(join(root, f))));
}

/** Plays a stage's `COPY <context paths> <dest>` into dir (dest relative to WORKDIR /src). */
function copyFromContext(ins: Instruction, context: string[], dir: string): void {
  const args = ins.getArguments().map((a) => a.getValue());
  const dest = args.pop()!;
  for (const src of args) {
    const matched = context.filter((f) => f === src || f.startsWith(`${src}/`));
    expect(matched, `COPY ${src}: nothing in the build context`).not.toEqual([]);
    for (const f of matched) {
      // A file goes into dest/ (or becomes dest); a directory's contents go into dest.
      const target = f === src ? (dest.endsWith('/') ? join(dir, dest, basename(f)) : join(dir, dest)) : join(dir, dest, relative(src, f));
      mkdirSync(dirname(target), { recursive: true });
      copyFileSync(join(root, f), target);
    }
  }
}

describe('deploy/Dockerfile, the npm package and the systemd units', () => {
  const work = mkdtempSync(join(tmpdir(), 'elink-pkg-'));
  const src = join(work, 'src'); // the build stage's WORKDIR /src
  const prefix = join(work, 'usr-local'); // the runtime stage's /usr/local
  const installed = join(prefix, 'lib/node_modules/@elink/cli');
  const bin = join(prefix, 'bin/elink');
  let dependencyLayer: string[] = [];
  let tarball = '';

  beforeAll(() => {
    assertBuilt();
    const [build, runtime] = stages();
    const context = buildContext();
    // Build stage: the COPY steps in order; what is there when `npm ci` runs is the dependency layer.
    for (const ins of build!.instructions) {
      if (ins.getKeyword() === 'COPY') copyFromContext(ins, context, src);
      if (ins.getKeyword() === 'RUN' && /\bnpm ci\b/.test(ins.getRawArgumentsContent() ?? '')) dependencyLayer = walk(src);
    }
    // `RUN npx tsc -b && npm run build -w packages/console && scripts/pack.sh /out`: the workspace is built (make test), so pack it.
    expect(build!.instructions.some((i) => i.getKeyword() === 'RUN' && /scripts\/pack\.sh \/out/.test(i.getRawArgumentsContent() ?? ''))).toBe(true);
    tarball = must(join(root, 'scripts/pack.sh'), [join(work, 'out')], { timeout: 300_000 }).trim().split('\n').pop()!;
    // Runtime stage: its one RUN that installs the tarball, with the image's prefix made a temp dir.
    const install = runtime!.instructions.find((i) => i.getKeyword() === 'RUN' && /npm install -g/.test(i.getRawArgumentsContent() ?? ''));
    const line = /npm install -g ([^&\\]*?)\s*(?:&&|\\|$)/.exec(install!.getRawArgumentsContent()!)![1]!.split(/\s+/);
    const flags = line.filter((a) => a.startsWith('--'));
    expect(flags).toContain('--offline');
    expect(line.at(-1)).toBe('/tmp/elink/elink-*.tgz');
    // An empty npm cache, as in the runtime image: the tarball must need nothing else.
    must('npm', ['install', '-g', ...flags, '--cache', join(work, 'empty-npm-cache'), '--prefix', prefix, tarball], { timeout: 300_000 });
  }, 600_000);

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('runs on the Node.js 24 that .node-version pins, whose tarball integrity scripts/node24.sh knows', () => {
    // make test runs vitest through scripts/node24.sh: the pinned Node unless the system's is 24+.
    expect(Number(process.versions.node.split('.')[0])).toBeGreaterThanOrEqual(24);
    expect(pinnedNode).toMatch(/^24\.\d+\.\d+$/);
    const script = readFileSync(join(root, 'scripts/node24.sh'), 'utf8');
    for (const arch of ['x64', 'arm64']) expect(script).toMatch(new RegExp(`^\\s*${pinnedNode.replaceAll('.', '\\.')}-${arch}\\) echo 'sha512-[A-Za-z0-9+/]{86}=='`, 'm'));
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { engines: { node: string }; devDependencies: Record<string, string> };
    expect(pkg.engines.node).toBe('>=24');
    expect(pkg.devDependencies['@types/node']).toMatch(/^\^24\./);
  });

  it('passes the Dockerfile linter (dockerfile-utils), which does flag a broken one', () => {
    expect(validate(dockerfileText).map((d) => `${d.range.start.line + 1}: ${d.message}`)).toEqual([]);
    expect(validate('FROM node:24\nEXPOSE http\nUSER\n').length).toBe(2);
  });

  it('pins the Node of .node-version in both stages, and runs as the unprivileged user with a HEALTHCHECK', () => {
    const [build, runtime, ...more] = stages();
    expect(more).toEqual([]);
    expect(build!.image).toBe(`node:${pinnedNode}-bookworm-slim`);
    expect(runtime!.image).toBe(build!.image);
    const kw = (s: Stage, k: string) => s.instructions.filter((i) => i.getKeyword() === k);
    expect(kw(runtime!, 'USER').map((i) => i.getArgumentsContent())).toEqual(['node']);
    const hc = kw(runtime!, 'HEALTHCHECK');
    expect(hc.length).toBe(1);
    expect(hc[0]!.getRawArgumentsContent()).toMatch(/CMD \["node", "-e", .*\/readyz/);
    // Nothing from the build context reaches the runtime stage: no COPY at all, only the
    // packed tarball through a bind mount of the build stage's /out.
    expect(kw(runtime!, 'COPY')).toEqual([]);
    expect(kw(runtime!, 'ADD')).toEqual([]);
    const mounts = kw(runtime!, 'RUN').flatMap((i) => (i as Instruction & { getFlags(): { getName(): string; getValue(): string | null }[] }).getFlags());
    expect(mounts.map((f) => `${f.getName()}=${f.getValue()}`)).toEqual(['mount=type=bind,from=build,source=/out,target=/tmp/elink']);
  });

  it('builds in layers: only manifests (and the addon build files) before npm ci, the sources after', () => {
    expect(dependencyLayer).toContain('package-lock.json');
    expect(dependencyLayer).toContain('packages/cli/package.json');
    const manifest = /^(package(-lock)?\.json|packages\/[a-z]+\/package\.json|packages\/tuntap\/(binding\.gyp|native\/[\w-]+\.(cc|h)))$/;
    expect(dependencyLayer.filter((f) => !manifest.test(f))).toEqual([]);
    expect(dependencyLayer.length).toBe(2 + 11 + 1 + readdirSync(join(root, 'packages/tuntap/native')).length);
    const all = walk(src);
    expect(all).toContain('packages/switch/src/node/switch-node.ts');
    expect(all).toContain('scripts/pack.sh');
  });

  it('sends no .git, node_modules, builds, tests, bench or docs into the build', () => {
    const context = buildContext();
    expect(context).toContain('packages/cli/src/main.ts');
    const banned = /^(\.git|\.tools|node_modules|dist-pkg|bench|test|docs|k8s|deploy|\.elink-state)(\/|$)|\/(node_modules|dist|build)\//;
    expect(context.filter((f) => banned.test(f))).toEqual([]);
    expect(walk(src).filter((f) => banned.test(f))).toEqual([]);
  });

  it("the image's files: compiled JavaScript, production dependencies and the prebuilt addon; no TS sources, tests, bench, .git or dev tools", () => {
    const files = walk(installed);
    expect(files).toContain('dist/main.js');
    expect(files).toContain('node_modules/@elink/switch/dist/index.js');
    expect(files).toContain('node_modules/@elink/tuntap/build/Release/tuntap.node');
    expect(files).toContain('node_modules/fastify/package.json');
    // WebSocket masking's native XOR (transport's native-mask.ts): bufferutil's prebuilt binary, which loads from here.
    if (process.arch === 'x64') {
      expect(files).toContain('node_modules/bufferutil/prebuilds/linux-x64/bufferutil.node');
      const probe = `import(${JSON.stringify(join(installed, 'node_modules/@elink/transport/dist/native-mask.js'))}).then((m) => console.log(typeof m.nativeUnmask))`;
      expect(must(process.execPath, ['-e', probe]).trim()).toBe('function');
    }
    // The web console's built files, which the broker serves; none of its build tools.
    expect(files).toContain('node_modules/@elink/console/dist/index.html');
    expect(files.filter((f) => /^node_modules\/(preact|uplot|vite|happy-dom)\//.test(f))).toEqual([]);
    expect(files.filter((f) => f.split('/').includes('.git'))).toEqual([]);
    // Ours: the @elink packages and the top-level cli.
    const ours = files.filter((f) => !f.startsWith('node_modules/') || /^node_modules\/@elink\/[a-z]+\/(?!node_modules\/)/.test(f));
    expect(ours.length).toBeGreaterThan(100);
    expect(ours.filter((f) => /\.ts$/.test(f) && !f.endsWith('.d.ts'))).toEqual([]);
    expect(ours.filter((f) => /(^|\/)(src|test|bench|native|docs)\/|\.test\.|(^|\/)test-[\w-]+\.js$|\.map$|\.tsbuildinfo$|binding\.gyp$|\.cc$/.test(f))).toEqual([]);
    // No development dependency came along.
    for (const dev of ['vitest', 'typescript', '@types/node', 'fast-check', 'dockerfile-utils', 'node-gyp']) expect(existsSync(join(installed, 'node_modules', dev)), dev).toBe(false);
    // The packed tarball, too, is the only thing the runtime stage receives.
    expect(statSync(tarball).size).toBeLessThan(20 << 20);
  });

  it('every bare import in the installed @elink packages is a declared dependency of its package', () => {
    const problems: string[] = [];
    const pkgs = [installed, ...readdirSync(join(installed, 'node_modules/@elink')).map((p) => join(installed, 'node_modules/@elink', p))];
    for (const dir of pkgs) {
      const pj = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name: string; dependencies?: Record<string, string>; engines?: { node?: string } };
      expect(pj.engines?.node, pj.name).toBe('>=24');
      for (const f of walk(join(dir, 'dist')).filter((x) => x.endsWith('.js'))) {
        // TypeScript's scanner finds the imports (static, dynamic, require), not text in strings.
        const { importedFiles } = ts.preProcessFile(readFileSync(join(dir, 'dist', f), 'utf8'), true, true);
        for (const spec of importedFiles.map((i) => i.fileName).filter((n) => !n.startsWith('.'))) {
          if (isBuiltin(spec)) continue;
          const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
          if (!pj.dependencies?.[name]) problems.push(`${pj.name} dist/${f} imports ${name}`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('the installed elink runs on this Node: --help, init; up answers /readyz on loopback and the HEALTHCHECK command agrees; SIGTERM stops it', async () => {
    const help = run(bin, ['--help']);
    expect(help.status, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/^Usage: elink <command>/m);
    // The bin's `#!/usr/bin/env node` finds the Node on PATH: make it say which.
    expect(must('sh', ['-c', 'node --version'])).toBe(`${process.version}\n`);
    const state = join(work, 'state');
    const init = run(bin, ['init', '--state', state]);
    expect(init.status, init.stderr).toBe(0);
    expect(existsSync(join(state, 'ca.pem'))).toBe(true);

    const [brokerPort, switchPort, adminPort] = [await freePort(), await freePort(), await freePort()];
    const up = spawn(bin, ['up', '--state', state, '--listen-host', '127.0.0.1', '--broker-port', String(brokerPort), '--switch-port', String(switchPort), '--admin-port', String(adminPort)], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    up.stdout.on('data', (d: Buffer) => (output += d.toString()));
    up.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => up.on('exit', (code) => resolve(code)));
    const healthcheck = JSON.parse(/HEALTHCHECK[^\n]*\\\n\s*CMD (\[.*\])/.exec(dockerfileText)![1]!) as string[];
    const probe = (port: number) => run(healthcheck[0]!, healthcheck.slice(1), { env: { ...env, ELINK_ADMIN_PORT: String(port) }, timeout: 10_000 }).status;
    try {
      let ready = false;
      for (const deadline = Date.now() + 30_000; !ready && Date.now() < deadline && up.exitCode === null; ) {
        ready = await fetch(`http://127.0.0.1:${adminPort}/readyz`).then((r) => r.ok, () => false);
        if (!ready) await new Promise((r) => setTimeout(r, 250));
      }
      expect(ready, output).toBe(true);
      expect(probe(adminPort)).toBe(0);
      expect(probe(await freePort())).toBe(1); // nothing listens there
      // The installed broker serves the web console's built files (from @elink/console). The
      // chain is checked against the state's CA; the host name is not what this checks.
      const page = await new Promise<{ status?: number; type?: string; body: string }>((resolve, reject) => {
        httpsGet({ host: '127.0.0.1', port: brokerPort, path: '/console/', ca: readFileSync(join(state, 'ca.pem')), servername: 'localhost', checkServerIdentity: () => undefined }, (res) => {
          let body = '';
          res.setEncoding('utf8').on('data', (d: string) => (body += d)).on('end', () => resolve({ status: res.statusCode, type: res.headers['content-type'], body }));
        }).on('error', reject);
      });
      expect([page.status, page.type]).toEqual([200, 'text/html; charset=utf-8']);
      expect(page.body).toMatch(/<script type="module" crossorigin src="\/console\/assets\/index-[\w-]+\.js">/);
    } finally {
      up.kill('SIGTERM');
      const timer = setTimeout(() => up.kill('SIGKILL'), 15_000);
      expect(await exited).toBe(0);
      clearTimeout(timer);
    }
  });

  describe('systemd units (deploy/systemd)', () => {
    const unitsDir = join(root, 'deploy/systemd');
    const units = ['elink-broker.service', 'elink-switch.service', 'elink-connect@.service'];
    /** Key → values of a unit's [Service] section (a key may repeat). */
    const service = (unit: string): Map<string, string[]> => {
      const out = new Map<string, string[]>();
      let section = '';
      for (const raw of readFileSync(join(unitsDir, unit), 'utf8').split('\n')) {
        const line = raw.trim();
        if (line === '' || line.startsWith('#')) continue;
        const s = /^\[(\w+)\]$/.exec(line);
        if (s) section = s[1]!;
        else if (section === 'Service') {
          const [k, ...v] = line.split('=');
          out.set(k!, [...(out.get(k!) ?? []), v.join('=')]);
        }
      }
      return out;
    };

    it('pass systemd-analyze verify without a warning, and a broken unit does not', () => {
      const dir = join(work, 'units');
      mkdirSync(dir);
      for (const u of units) writeFileSync(join(dir, u), readFileSync(join(unitsDir, u), 'utf8').replaceAll('/usr/local/bin/elink', bin));
      copyFileSync(join(dir, 'elink-connect@.service'), join(dir, 'elink-connect@lab.service'));
      const files = ['elink-broker.service', 'elink-switch.service', 'elink-connect@lab.service'].map((u) => join(dir, u));
      const r = run('systemd-analyze', ['verify', '--man=no', ...files]);
      expect(r.error, 'systemd-analyze is missing (scripts/install-test-deps.sh installs systemd)').toBeUndefined();
      expect(`${r.status} ${r.stderr}`).toBe('0 ');
      // Exposure score (0 safest, 10 unsafe); "OK" is below 5.
      const sec = run('systemd-analyze', ['security', '--offline=true', '--threshold=25', '--no-pager', ...files]);
      expect(sec.status, sec.stdout + sec.stderr).toBe(0);
      writeFileSync(join(dir, 'bad.service'), readFileSync(files[0]!, 'utf8').replace('ProtectSystem=strict', 'ProtectSystem=strcit'));
      expect(run('systemd-analyze', ['verify', '--man=no', join(dir, 'bad.service')]).stderr).toMatch(/protect system value, ignoring: strcit/);
    });

    it('grant CAP_NET_ADMIN only to the client, which opens a TAP/TUN; all run as user elink, hardened', () => {
      for (const u of units) {
        const s = service(u);
        const net = u.startsWith('elink-connect');
        expect(s.get('CapabilityBoundingSet'), u).toEqual([net ? 'CAP_NET_ADMIN' : '']);
        expect(s.get('AmbientCapabilities'), u).toEqual([net ? 'CAP_NET_ADMIN' : '']);
        expect(s.get('PrivateDevices'), u).toEqual(net ? undefined : ['yes']);
        if (net) expect([s.get('DevicePolicy'), s.get('DeviceAllow')]).toEqual([['closed'], ['/dev/net/tun rw']]);
        // elink connect's permanent failures (exit 2-7) are not restarted.
        if (net) expect(s.get('RestartPreventExitStatus')).toEqual(['2 3 4 5 6 7']);
        expect(s.get('User'), u).toEqual(['elink']);
        for (const [k, v] of [['NoNewPrivileges', 'yes'], ['ProtectSystem', 'strict'], ['ProtectHome', 'yes'], ['PrivateTmp', 'yes'], ['RestrictSUIDSGID', 'yes']]) expect(s.get(k!), `${u} ${k}`).toEqual([v]);
        expect(s.get('ExecStart')![0], u).toMatch(/^\/usr\/local\/bin\/elink (broker|switch|connect) /);
      }
      expect(readFileSync(join(unitsDir, 'elink.sysusers.conf'), 'utf8')).toMatch(/^u elink - /m);
    });
  });
});
