/**
 * The web console in a real browser: Debian's chromium driven by playwright-core, against
 * `elink up` (broker + in-process switch node) with two kernel clients in network
 * namespaces. Signs in (a wrong token first), finds both sessions in the segment view and
 * the port each MAC points to, watches the throughput charts move while the clients run
 * iperf3, is refused an action without the CSRF header, disconnects one session from the
 * console (its client logs the end, the switch forgets it, the other session and the node
 * are untouched), checks the phone width and keyboard reach, and signs out.
 *
 * Chromium runs in a network namespace of its own on the underlay (a two-line wrapper as its
 * executable: `ip netns exec NS /usr/bin/chromium`), like the clients.
 *
 * Screenshots of the overview and the segment view are taken from this real data: into
 * docs/console/ when UPDATE_SCREENSHOTS=1 (then commit them), into a temporary directory
 * otherwise, so a test run never changes the tree.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUnderlay, requireNetnsOrSkip, type Underlay } from './lib/netns.js';
import { assertBuilt, elink, stopAll, type Proc } from './lib/processes.js';
import { ADMIN_TOKEN, startServer, type TestServer } from './lib/server.js';

const CHROMIUM = '/usr/bin/chromium';
const root = fileURLToPath(new URL('..', import.meta.url));

function browserOrSkip(): boolean {
  if (existsSync(CHROMIUM)) return true;
  if (process.env.CI === 'true') throw new Error(`CI=true but ${CHROMIUM} is missing (scripts/install-test-deps.sh installs the chromium package)`);
  return false;
}
const enabled = requireNetnsOrSkip() && browserOrSkip();

interface Client {
  ns: string;
  v4: string;
  proc: Proc;
  /** The switch's session id, from the client's `connected` log. */
  session: string;
}

/** Chromium trusts exactly the server's key (as pinned in the state directory), not any certificate. */
function spkiHash(certFile: string): string {
  const spki = new X509Certificate(readFileSync(certFile)).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64');
}

/** The newest [rx, tx] bits per second a chart shows (its data-latest). */
async function chartLatest(page: Page, id: string): Promise<number[]> {
  const v = await page.locator(`[data-chart="${id}"]`).getAttribute('data-latest', { timeout: 5000 });
  return JSON.parse(v ?? '[]') as number[];
}

describe.skipIf(!enabled)('web console in a real browser (chromium)', () => {
  let underlay: Underlay;
  let server: TestServer;
  let base: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const clients = new Map<string, Client>();
  const shotsTmp = mkdtempSync(join(tmpdir(), 'elink-console-'));
  const shots = process.env.UPDATE_SCREENSHOTS === '1' ? join(root, 'docs/console') : shotsTmp;
  const helpers: ChildProcess[] = [];
  /** What the browser reported as errors (CSP violations show here). */
  const browserErrors: string[] = [];

  beforeAll(async () => {
    assertBuilt();
    if (!existsSync(join(root, 'packages/console/dist/index.html'))) throw new Error('packages/console/dist is missing: run `npm run build -w packages/console` (make test does)');
    underlay = createUnderlay();
    server = await startServer({ gateway: underlay.gateway, segments: [], users: [{ name: 'alice', segment: 'lab' }, { name: 'bob', segment: 'lab' }], brokerConfig: { adminToken: ADMIN_TOKEN } });
    // Chromium runs in a host (network namespace) of its own on the underlay: it gives up a
    // request with ERR_NETWORK_CHANGED whenever an interface comes or goes in its namespace,
    // which in the root namespace happens all the time (other tests' veths and namespaces).
    const web = underlay.addHost('web');
    base = `https://${underlay.gateway}:${new URL(server.brokerUrl).port}`;
    const wrapper = join(shotsTmp, 'chromium-in-netns');
    writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${web.ns} ${CHROMIUM} "$@"\n`, { mode: 0o755 });
    const [, launched] = await Promise.all([
      Promise.all(
        [
          ['h1', 'alice'],
          ['h2', 'bob'],
        ].map(async ([name, user]) => {
          const { ns } = underlay.addHost(name!);
          const proc = elink(['connect', ...server.connectArgs(user!), '--ifname', 'el0', '--device', name!], { ns });
          const up = await proc.waitFor((l) => l.msg === 'link up', 30_000, `${name} link up`);
          const connected = await proc.waitFor((l) => l.msg === 'connected', 5000, `${name} connected`);
          clients.set(name!, { ns, v4: String(up.ipv4).split('/')[0]!, proc, session: String(connected.session) });
        }),
      ),
      chromium.launch({
        executablePath: wrapper,
        // Root has no user namespace sandbox for chromium here; the pages are our own.
        args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', `--ignore-certificate-errors-spki-list=${spkiHash(join(server.state, 'server.pem'))}`],
      }),
    ]);
    browser = launched;
    context = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: 'light', reducedMotion: 'reduce' });
    page = await context.newPage();
    page.setDefaultTimeout(15_000);
    page.on('console', (m) => m.type() === 'error' && browserErrors.push(m.text()));
    page.on('pageerror', (e) => browserErrors.push(`uncaught: ${e.message}`));
  }, 90_000);

  afterAll(async () => {
    for (const h of helpers) h.kill('SIGKILL');
    await browser?.close();
    await stopAll();
    underlay?.destroy();
    server?.destroy();
    rmSync(shotsTmp, { recursive: true, force: true });
  });

  it('refuses a wrong token, with the broker\'s error shown and no session made', async () => {
    const res = await page.goto(`${base}/console/`);
    expect(res?.status()).toBe(200);
    expect(res?.headers()['content-security-policy']).toMatch(/script-src 'self'/);
    await page.getByLabel('Admin token', { exact: true }).fill('not-the-admin-token-0123456789');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/EL_ERR_AUTH/);
    const status = await page.evaluate(async () => (await fetch('/v1/admin/overview')).status);
    expect(status).toBe(401);
  });

  it('signs in with the admin token; the overview lists the node and the segment with both sessions', async () => {
    await page.getByLabel('Admin token', { exact: true }).fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('navigation', { name: 'Main' }).waitFor();
    const cookies = await context.cookies();
    const cookie = cookies.find((c) => c.name === 'el_console');
    expect(cookie).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Strict' });
    const nodes = page.getByRole('table', { name: /Nodes/ });
    await expect.poll(() => nodes.locator('tbody tr').count()).toBe(1);
    await expect.poll(() => nodes.textContent()).toMatch(/healthy/);
    const lab = page.getByRole('table', { name: /Segments/ }).locator('tbody tr', { hasText: 'lab' });
    await expect.poll(async () => (await lab.locator('td').nth(2).textContent())?.trim()).toBe('2');
    await page.getByRole('status', { name: 'Live statistics: open' }).waitFor();
  });

  it('the segment view lists both sessions and the MAC table with the port each MAC points to', async () => {
    await page.getByRole('table', { name: /Segments/ }).getByRole('link', { name: 'lab' }).click();
    await page.getByRole('heading', { name: /Segment lab/ }).waitFor();
    const sessions = page.getByRole('table', { name: /Sessions/ });
    for (const [name, c] of clients) await sessions.locator(`tr[data-row="${c.session}"]`, { hasText: name }).waitFor();
    await expect.poll(() => sessions.locator('tbody tr').count()).toBe(2);
    for (const a of [clients.get('h1')!.v4, clients.get('h2')!.v4]) expect(await sessions.textContent()).toContain(a);
    // Search narrows the list to the matching session.
    await page.getByLabel('Search sessions').fill('bob');
    await expect.poll(() => sessions.locator('tbody tr').count()).toBe(1);
    await page.getByLabel('Search sessions').fill('');
    await page.getByLabel('Search sessions').blur();
    // Each client's MAC points to its session (a link to it, named user/device).
    const macs = page.getByRole('table', { name: /MAC table/ });
    await macs.getByRole('link', { name: 'alice/h1' }).waitFor();
    await macs.getByRole('link', { name: 'bob/h2' }).waitFor();
  });

  it('the throughput charts move while the clients run iperf3 (segment, node, session)', async () => {
    const h1 = clients.get('h1')!;
    const h2 = clients.get('h2')!;
    const chart = page.locator('[data-chart="segment:lab:bits"]');
    const before = await chart.locator('canvas').screenshot();
    const pointsBefore = Number(await chart.getAttribute('data-points'));
    const srv = spawn('ip', ['netns', 'exec', h1.ns, 'iperf3', '-s', '-1', '-B', h1.v4], { stdio: 'ignore' });
    helpers.push(srv);
    await new Promise((r) => setTimeout(r, 500));
    const cli = spawn('ip', ['netns', 'exec', h2.ns, 'iperf3', '-c', h1.v4, '-t', '10'], { stdio: 'ignore' });
    helpers.push(cli);
    // More than 1 Mbit/s in the segment: the charts saw the iperf3 stream (not a speed test).
    await expect.poll(async () => Math.max(...(await chartLatest(page, 'segment:lab:bits'))), { timeout: 15_000, interval: 250 }).toBeGreaterThan(1e6);
    expect(Number(await chart.getAttribute('data-points'))).toBeGreaterThan(pointsBefore);
    expect((await chart.locator('canvas').screenshot()).equals(before)).toBe(false);
    expect(await chart.locator('figcaption').textContent()).toMatch(/[kMG]bit\/s/);
    // A few seconds of the stream on the chart before the picture is taken.
    await expect.poll(async () => Number(await chart.getAttribute('data-points')), { timeout: 10_000, interval: 250 }).toBeGreaterThanOrEqual(6);
    await page.screenshot({ path: join(shots, 'segment.png'), fullPage: true });

    await page.getByRole('link', { name: 'Overview' }).first().click();
    const node = (await page.getByRole('table', { name: /Nodes/ }).locator('tbody tr td').first().textContent())!.trim();
    await expect.poll(async () => Math.max(...(await chartLatest(page, `node:${node}:bits`))), { timeout: 10_000, interval: 250 }).toBeGreaterThan(1e6);
    await expect.poll(async () => Math.max(...(await chartLatest(page, `node:${node}:packets`))), { timeout: 5000, interval: 250 }).toBeGreaterThan(10);
    await page.screenshot({ path: join(shots, 'overview.png'), fullPage: true });

    // The sending session's own graph, on its detail page.
    await page.goto(`${base}/console/#/sessions/${encodeURIComponent(h2.session)}`);
    await page.getByRole('heading', { name: 'Session bob/h2' }).waitFor();
    await expect.poll(async () => Math.max(...(await chartLatest(page, `session:${h2.session}:bits`))), { timeout: 10_000, interval: 250 }).toBeGreaterThan(1e6);
    const done = new Promise((r) => cli.once('exit', r));
    cli.kill('SIGINT');
    await done;
  });

  it('refuses an action without the CSRF header (and with a wrong one); the node is not drained', async () => {
    const node = await page.evaluate(async () => ((await (await fetch('/v1/admin/overview')).json()) as { nodes: { node: string }[] }).nodes[0]!.node);
    const refused = await page.evaluate(async (n) => {
      const out: { status: number; body: { error?: string; code?: string } }[] = [];
      for (const headers of [{}, { 'x-el-csrf': 'forged' }]) {
        const r = await fetch(`/v1/admin/nodes/${encodeURIComponent(n)}/drain`, { method: 'POST', headers });
        out.push({ status: r.status, body: (await r.json()) as { error?: string; code?: string } });
      }
      return out;
    }, node);
    for (const r of refused) {
      expect(r.status).toBe(403);
      expect(r.body.error ?? r.body.code).toBe('EL_ERR_CSRF');
    }
    const overview = await page.evaluate(async () => (await (await fetch('/v1/admin/overview')).json()) as { nodes: { draining: boolean }[] });
    expect(overview.nodes.map((n) => n.draining)).toEqual([false]);
  });

  it('disconnects one session from the console: its client sees the session end, the other session and the node carry on', async () => {
    const h1 = clients.get('h1')!;
    const h2 = clients.get('h2')!;
    // Drain: opened and cancelled, nothing happens.
    await page.goto(`${base}/console/#/`);
    await page.getByRole('button', { name: /^Drain node / }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();

    await page.goto(`${base}/console/#/segments/lab`);
    const sessions = page.getByRole('table', { name: /Sessions/ });
    await sessions.locator(`tr[data-row="${h2.session}"]`).waitFor();
    await page.getByRole('button', { name: 'Disconnect bob/h2' }).click();
    const dialog = page.getByRole('dialog', { name: 'Disconnect bob/h2' });
    await dialog.getByRole('button', { name: 'Disconnect' }).click();
    const ended = await h2.proc.waitFor((l) => l.msg === 'switch session ended', 10_000, 'h2 session ended');
    expect(String(ended.err)).toMatch(/administrator/);
    // The switch ended that very session (not just the client giving up).
    await server.proc.waitFor((l) => l.msg === 'session kicked' && l.session === h2.session, 5000, 'the switch kicking h2');
    await sessions.locator(`tr[data-row="${h2.session}"]`).waitFor({ state: 'detached' });
    // The other client's session is the same one as before; it never ended.
    await sessions.locator(`tr[data-row="${h1.session}"]`).waitFor();
    expect(h1.proc.logs.filter((l) => l.msg === 'switch session ended')).toEqual([]);
    const overview = await page.evaluate(async () => (await (await fetch('/v1/admin/overview')).json()) as { nodes: { draining: boolean }[] });
    expect(overview.nodes.map((n) => n.draining)).toEqual([false]);
    // The action is in the audit log, with who did it.
    await page.getByRole('link', { name: 'Audit log' }).click();
    const audit = page.getByRole('table', { name: /actions/ });
    await audit.locator('tbody tr', { hasText: h2.session }).waitFor();
    expect(await audit.locator('tbody tr', { hasText: h2.session }).textContent()).toMatch(/ok/);
    // Its detail page says it has ended.
    await page.goto(`${base}/console/#/sessions/${encodeURIComponent(h2.session)}`);
    await page.getByRole('status').filter({ hasText: 'This session has ended' }).waitFor();
  });

  it('the Trunks page reads GET /v1/admin/trunks with the console cookie (one node: no trunks)', async () => {
    await page.getByRole('link', { name: 'Trunks' }).click();
    const table = page.getByRole('table', { name: /Trunks/ });
    await table.getByText('No trunks').waitFor();
    expect(await page.getByRole('alert').count()).toBe(0);
  });

  it('manages a user: add, disable, reset the password, set the DTCP secret, delete (each confirmed)', async () => {
    await page.getByRole('link', { name: 'Users' }).click();
    await page.getByRole('heading', { name: 'Users' }).waitFor();
    const form = page.locator('form.add-user');
    await form.getByLabel('Name').fill('carol');
    await form.getByLabel('Password').fill('carol-password-1');
    await form.getByLabel('lab').check();
    await form.getByRole('button', { name: 'Add user' }).click();
    await page.getByRole('status').filter({ hasText: 'User carol added.' }).waitFor();
    const row = page.getByRole('table', { name: /Users/ }).locator('tbody tr', { hasText: 'carol' });
    await row.waitFor();
    const confirm = async (button: string, value?: string) => {
      await page.getByRole('button', { name: button }).click();
      const dialog = page.getByRole('dialog', { name: button });
      if (value !== undefined) await dialog.locator('input').fill(value);
      await dialog.locator('button[type="submit"]').click();
      await dialog.waitFor({ state: 'hidden' });
    };
    await confirm('Disable user carol');
    await row.getByText('disabled').waitFor();
    await confirm('Reset the password of carol', 'carol-password-2');
    await confirm('Set the DTCP secret of carol', 'carol-dtcp-secret');
    await expect.poll(async () => (await row.locator('td').nth(4).textContent())?.trim()).toBe('set');
    await confirm('Delete user carol');
    await row.waitFor({ state: 'detached' });
  });

  it('works at phone width and from the keyboard', async () => {
    const phone = await context.newPage();
    await phone.setViewportSize({ width: 390, height: 844 });
    await phone.goto(`${base}/console/#/segments/lab`);
    await phone.getByRole('table', { name: /Sessions/ }).waitFor();
    // Wide tables scroll inside their own box: the page itself does not scroll sideways.
    expect(await phone.evaluate('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true);
    await phone.screenshot({ path: join(shots, 'segment-phone.png') });
    // Tab reaches the skip link, then the navigation.
    await phone.keyboard.press('Tab');
    expect(await phone.evaluate('document.activeElement?.textContent')).toBe('Skip to content');
    await phone.keyboard.press('Tab');
    expect(await phone.evaluate('document.activeElement?.textContent')).toBe('Overview');
    await phone.keyboard.press('Enter');
    await phone.getByRole('heading', { name: 'Overview' }).waitFor();
    await phone.close();
  });

  it('signs out: the cookie no longer opens the admin API', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Admin token', { exact: true }).waitFor();
    const statuses = await page.evaluate(async () => [(await fetch('/v1/console/session')).status, (await fetch('/v1/admin/overview')).status]);
    expect(statuses).toEqual([401, 401]);
    // The whole visit ran under the broker's CSP (no 'unsafe-inline') without a violation or
    // an uncaught error. (Other console errors are expected: the refused requests the test
    // makes on purpose, an event stream cut by a navigation.)
    expect(browserErrors.filter((e) => /Content Security Policy|uncaught/i.test(e))).toEqual([]);
  });
});
