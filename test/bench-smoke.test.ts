/**
 * The benchmark harness cannot rot: `npm run bench:smoke` (Emotion Link L2 only, a few
 * seconds, in its own namespaces) must finish and write a sane result. No timing is
 * asserted: only that every figure was measured.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { requireNetnsOrSkip } from './lib/netns.js';
import { assertBuilt } from './lib/processes.js';

const enabled = requireNetnsOrSkip();
const root = fileURLToPath(new URL('..', import.meta.url));

describe.skipIf(!enabled)('npm run bench:smoke (root, network namespaces)', () => {
  const out = mkdtempSync(join(tmpdir(), 'elink-bench-smoke-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('measures Emotion Link L2 client to client and writes JSON, SVG and a table', () => {
    assertBuilt();
    const r = spawnSync('npm', ['run', '--silent', 'bench:smoke', '--', '--out', out], { cwd: root, encoding: 'utf8', timeout: 150_000 });
    expect(r.status, `${r.stderr}\n${r.stdout}`).toBe(0);
    expect(r.stdout).toMatch(/Emotion Link L2\s+\d/);

    const json = JSON.parse(readFileSync(join(out, 'smoke.json'), 'utf8'));
    expect(json.kind).toBe('smoke');
    expect(json.machine.cpus).toBeGreaterThan(0);
    expect(json.systems).toHaveLength(1);
    const [el] = json.systems;
    expect(el.id).toBe('elink-l2');
    expect(el.available, el.reason).toBe(true);
    const m = el.results;
    expect(m.tcp1Gbps).toBeGreaterThan(0);
    expect(m.tcp4Gbps).toBeGreaterThan(0);
    expect(m.udp64Pps).toBeGreaterThan(0);
    expect(m.pingAvgMs).toBeGreaterThan(0);
    expect(m.pingP99Ms).toBeGreaterThanOrEqual(m.pingAvgMs * 0.5);
    expect(m.pingLoss).toBeLessThan(0.5);
    expect(Object.keys(m.cpuSecondsPerGbit).sort()).toEqual(['client1', 'client2', 'server']);
    for (const v of Object.values(m.cpuSecondsPerGbit)) expect(v as number).toBeGreaterThan(0);

    expect(existsSync(join(out, 'smoke.svg'))).toBe(true);
    expect(readFileSync(join(out, 'smoke.svg'), 'utf8')).toMatch(/^<svg [^>]*>[\s\S]*Emotion Link L2[\s\S]*<\/svg>\n$/);
  });

  it('leaves no namespaces or links behind', () => {
    const pid = /elb(\d+)/;
    const ns = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
    const links = spawnSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).stdout;
    // Any elb<pid> left must belong to a process that is still running (another bench run).
    for (const line of [...ns.split('\n'), ...links.split('\n')]) {
      const m = pid.exec(line);
      if (!m) continue;
      expect(() => process.kill(Number(m[1]), 0), `stale ${line}`).not.toThrow();
    }
  });
});
