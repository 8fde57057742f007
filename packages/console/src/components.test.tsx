// @vitest-environment happy-dom
/**
 * The console's components in a DOM (happy-dom), found the way assistive technology finds
 * them (roles and accessible names), driven by clicks and typing. The pages talk to a
 * recording Api: what they send is what these tests check.
 */
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/preact';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiError, type Api, type Credentials, type NodeView, type SessionView, type TrunkView } from './api.js';
import { App } from './app.js';
import { Chart } from './components/chart.js';
import { ConfirmButton } from './components/confirm.js';
import { DataTable } from './components/data-table.js';
import { Ctx } from './hooks.js';
import { Live } from './live.js';
import { Login } from './pages/login.js';
import { Overview } from './pages/overview.js';
import { Users } from './pages/users.js';
import { Segment } from './pages/segment.js';
import { Trunks } from './pages/trunks.js';
import { Series } from './series.js';
import { bitRateBps } from './units.js';

afterEach(() => {
  cleanup();
  location.hash = '';
});

const sessions: SessionView[] = [
  { id: 's-1', user: 'alice', device: 'laptop', node: 'n1', addresses: ['198.19.0.2', 'fd00:e1::2'], mac: '02:00:00:00:00:02', since: '2026-01-01T00:00:00Z', rxBytes: 2048, txBytes: 10, rxBps: 125_000, txBps: 0 },
  { id: 's-2', user: 'bob', device: 'phone', node: 'n1', addresses: ['198.19.0.3'], since: '2026-01-01T00:00:00Z', rxBytes: 1, txBytes: 5_000_000, rxBps: 0, txBps: 0 },
];

/** An Api that records what the pages ask for and answers from fixed data. */
function recordingApi(overrides: Partial<Api> = {}): Api & { calls: string[] } {
  const calls: string[] = [];
  const rec =
    <A extends unknown[], R>(name: string, f: (...a: A) => R) =>
    (...a: A): R => {
      calls.push(`${name}(${a.map((x) => JSON.stringify(x)).join(',')})`);
      return f(...a);
    };
  const api: Api & { calls: string[] } = {
    calls,
    who: undefined,
    login: rec('login', async (c: Credentials) => {
      if ('token' in c && c.token !== 'right-token') throw new ApiError(401, 'EL_ERR_AUTH', 'wrong admin token');
      return { who: 'token', csrf: 'c' };
    }),
    resume: rec('resume', async () => undefined),
    logout: rec('logout', async () => undefined),
    overview: rec('overview', async () => ({ nodes: [], segments: [{ name: 'lab', mode: 'l2' as const, sessions: 2, nodes: 1, pools: [] }], totals: { nodes: 1, sessions: 2, segments: 1, rxBps: 0, txBps: 0, rxPps: 0, txPps: 0 } })),
    sessions: rec('sessions', async () => sessions),
    table: rec('table', async () => ({ kind: 'mac' as const, entries: [{ key: '02:00:00:00:00:02', port: 's-1', node: 'n1', user: 'alice' }, { key: '02:00:00:00:00:99', port: 'bridge', node: 'n1' }] })),
    session: rec('session', async () => {
      throw new Error('not used');
    }),
    disconnect: rec('disconnect', async () => undefined),
    drain: rec('drain', async () => undefined),
    users: rec('users', async () => []),
    addUser: rec('addUser', async () => undefined),
    deleteUser: rec('deleteUser', async () => undefined),
    setEnabled: rec('setEnabled', async () => undefined),
    setPassword: rec('setPassword', async () => undefined),
    setDigest: rec('setDigest', async () => undefined),
    audit: rec('audit', async () => []),
    trunks: rec('trunks', async () => []),
    ...overrides,
  };
  return api;
}

function withApp(api: Api, node: preact.ComponentChildren, live = new Live()) {
  return render(<Ctx.Provider value={{ api, live }}>{node}</Ctx.Provider>);
}

describe('DataTable', () => {
  const columns = [
    { key: 'user', label: 'User', value: (s: SessionView) => s.user, render: (s: SessionView) => s.user },
    { key: 'rx', label: 'Bytes in', numeric: true, value: (s: SessionView) => s.rxBytes, render: (s: SessionView) => String(s.rxBytes) },
  ];
  const names = () => within(screen.getByRole('table', { name: /Sessions/ })).getAllByRole('row').slice(1).map((r) => r.querySelector('td')!.textContent);

  it('sorts by a column with its header button and says so in aria-sort', () => {
    render(<DataTable caption="Sessions" rows={sessions} columns={columns} rowKey={(s) => s.id} initialSort={{ key: 'user', dir: 'ascending' }} />);
    expect(names()).toEqual(['alice', 'bob']);
    fireEvent.click(screen.getByRole('button', { name: /Bytes in/ }));
    expect(screen.getByRole('columnheader', { name: /Bytes in/ }).getAttribute('aria-sort')).toBe('ascending');
    expect(names()).toEqual(['bob', 'alice']);
    fireEvent.click(screen.getByRole('button', { name: /Bytes in/ }));
    expect(screen.getByRole('columnheader', { name: /Bytes in/ }).getAttribute('aria-sort')).toBe('descending');
    expect(screen.getByRole('columnheader', { name: /User/ }).getAttribute('aria-sort')).toBeNull();
    expect(names()).toEqual(['alice', 'bob']);
  });

  it('filters on any column with its labelled search box', () => {
    render(<DataTable caption="Sessions" search rows={sessions} columns={columns} rowKey={(s) => s.id} />);
    fireEvent.input(screen.getByLabelText('Search sessions'), { target: { value: 'BO' } });
    expect(names()).toEqual(['bob']);
    expect(screen.getByRole('table').querySelector('caption')!.textContent).toMatch(/1 of 2/);
    fireEvent.input(screen.getByLabelText('Search sessions'), { target: { value: 'nobody' } });
    expect(screen.getByText('Nothing here.')).toBeTruthy();
  });
});

describe('ConfirmButton', () => {
  it('runs its action only after the confirmation; Cancel runs nothing', async () => {
    const ran: string[] = [];
    render(<ConfirmButton label="Drain" name="Drain node n1" question="Drain node n1?" action={async (v) => void ran.push(`drain ${v}`)} />);
    fireEvent.click(screen.getByRole('button', { name: 'Drain node n1' }));
    const dialog = screen.getByRole('dialog', { name: 'Drain node n1' });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    expect(ran).toEqual([]);
    fireEvent.click(screen.getByRole('button', { name: 'Drain node n1' }));
    fireEvent.click(within(dialog).getByRole('button', { name: 'Drain' }));
    await waitFor(() => expect(ran).toEqual(['drain ']));
  });

  it('asks for a value when it has a field, and shows a refused action in the dialog', async () => {
    render(
      <ConfirmButton
        label="Reset password"
        question="A new password:"
        field={{ label: 'New password', minLength: 8 }}
        action={async (v) => {
          throw new ApiError(403, 'EL_ERR_CSRF', `refused ${v}`);
        }}
      />,
    );
    fireEvent.click(screen.getByRole('button', { name: 'Reset password' }));
    const dialog = screen.getByRole('dialog');
    fireEvent.input(within(dialog).getByLabelText('New password'), { target: { value: 'hunter22!' } });
    fireEvent.submit(dialog.querySelector('form')!);
    expect((await within(dialog).findByRole('alert')).textContent).toBe('refused hunter22! (EL_ERR_CSRF)');
  });
});

describe('Login', () => {
  it('shows a refused token as an alert and signs in with the right one', async () => {
    const api = recordingApi();
    const signedIn: string[] = [];
    withApp(api, <Login onSignedIn={(w) => signedIn.push(w.who)} />);
    const token = screen.getByLabelText('Admin token');
    fireEvent.input(token, { target: { value: 'wrong' } });
    fireEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    expect((await screen.findByRole('alert')).textContent).toMatch(/wrong admin token \(EL_ERR_AUTH\)/);
    fireEvent.input(token, { target: { value: 'right-token' } });
    fireEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    await waitFor(() => expect(signedIn).toEqual(['token']));
  });

  it('signs in as an admin user with name and password', async () => {
    const api = recordingApi();
    withApp(api, <Login onSignedIn={() => undefined} />);
    fireEvent.click(screen.getByLabelText(/an admin user/));
    fireEvent.input(screen.getByLabelText('User name'), { target: { value: 'ops' } });
    fireEvent.input(screen.getByLabelText('Password'), { target: { value: 'pw-pw-pw-pw' } });
    fireEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    await waitFor(() => expect(api.calls).toContain('login({"user":"ops","password":"pw-pw-pw-pw"})'));
  });
});

describe('Segment view', () => {
  it('lists the sessions and the MAC table with the port each MAC points to; disconnects the chosen session after confirming', async () => {
    const api = recordingApi();
    withApp(api, <Segment name="lab" />);
    const table = await screen.findByRole('table', { name: /Sessions/ });
    expect(within(table).getByRole('link', { name: 'laptop' }).getAttribute('href')).toBe('#/sessions/s-1');
    expect(within(table).getByText(bitRateBps(1_000_000) + ' / 0 bit/s')).toBeTruthy();
    const macs = await screen.findByRole('table', { name: /MAC table/ });
    expect(within(macs).getByRole('link', { name: 'alice/laptop' }).getAttribute('href')).toBe('#/sessions/s-1');
    expect(within(macs).getByText('bridge')).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Disconnect bob/phone' }));
    fireEvent.click(within(screen.getByRole('dialog', { name: 'Disconnect bob/phone' })).getByRole('button', { name: 'Disconnect' }));
    await waitFor(() => expect(api.calls).toContain('disconnect("s-2")'));
    expect(api.calls.filter((c) => c.startsWith('disconnect'))).toEqual(['disconnect("s-2")']);
  });

  it("shows a session's live rate from the event stream over the listing's", async () => {
    const live = new Live();
    withApp(recordingApi(), <Segment name="lab" />, live);
    const table = await screen.findByRole('table', { name: /Sessions/ });
    live.ingest({ t: 1_000_000, nodes: {}, segments: {}, sessions: { 's-2': { rxBps: 0, txBps: 1_250_000 } } });
    await waitFor(() => expect(within(table).getByText('0 bit/s / 10.0 Mbit/s')).toBeTruthy());
  });
});

const node = (name: string, extra: Partial<NodeView> = {}): NodeView => ({ node: name, healthy: true, draining: false, inProcess: false, static: false, version: 'elink/0.1.0', sessions: 1, capacity: 100, load: 0.01, hosts: ['198.18.0.1'], port: 4443, seenAt: new Date().toISOString(), ...extra });

describe('Overview', () => {
  it('drains only a node that can be drained, after confirming; shows drops by reason from the stream', async () => {
    const api = recordingApi({
      overview: async () => ({
        nodes: [node('n1'), node('n2', { draining: true }), node('n3', { static: true })],
        segments: [],
        totals: { nodes: 3, sessions: 3, segments: 0, rxBps: 0, txBps: 0, rxPps: 0, txPps: 0 },
      }),
    });
    const live = new Live();
    withApp(api, <Overview />, live);
    await screen.findByRole('table', { name: /Nodes/ });
    expect((screen.getByRole('button', { name: 'Drain node n2' }) as HTMLButtonElement).disabled).toBe(true);
    expect((screen.getByRole('button', { name: 'Drain node n3' }) as HTMLButtonElement).disabled).toBe(true);
    fireEvent.click(screen.getByRole('button', { name: 'Drain node n1' }));
    fireEvent.click(within(screen.getByRole('dialog', { name: 'Drain node n1' })).getByRole('button', { name: 'Drain' }));
    await waitFor(() => expect(api.calls.filter((c) => c.startsWith('drain'))).toEqual(['drain("n1")']));
    live.ingest({ t: 2_000_000, nodes: { n1: { rxBps: 0, txBps: 0, rxPps: 0, txPps: 0, sessions: 1, drops: { queue_full: 12, flood_limit: 3 } } }, segments: {}, sessions: {} });
    const drops = await screen.findByRole('table', { name: 'Drops now' });
    expect(within(drops).getAllByRole('row').slice(1).map((r) => r.textContent)).toEqual(['flood_limit3/s', 'queue_full12/s']);
  });
});

describe('Trunks', () => {
  it("lists each node's trunks with state, traffic, drops by reason and endpoint counts", async () => {
    const trunk = { segments: ['lab'], framesIn: 10, bytesIn: 2048, framesOut: 4, bytesOut: 512, announced: 2, learned: 3 };
    const api = recordingApi({
      trunks: async (): Promise<TrunkView[]> => [
        { node: 'n1', peer: 'n2', state: 'up' as const, since: '2026-01-01T00:00:00Z', address: '10.0.0.2:4444', role: 'dial' as const, drops: { split_horizon: 2, queue_full: 1 }, ...trunk },
        { node: 'n2', peer: 'n3', state: 'down' as const, since: '2026-01-01T00:00:00Z', drops: {}, ...trunk, segments: [], announced: 0, learned: 0 },
      ],
    });
    withApp(api, <Trunks />);
    const table = await screen.findByRole('table', { name: /Trunks/ });
    const rows = within(table).getAllByRole('row').slice(1).map((r) => [...r.querySelectorAll('td')].map((c) => c.textContent));
    expect(rows[0]).toEqual(['n1', 'n2', 'up', expect.any(String), 'lab', '2.00 KiB (10 frames)', '512 B (4 frames)', 'split_horizon 2, queue_full 1', '2', '3']);
    expect(rows[1]!.slice(0, 3)).toEqual(['n2', 'n3', 'down']);
    expect(rows[1]![7]).toBe('–');
  });
});

describe('Users', () => {
  it('shows users of the configuration file read-only, and adds a console admin user to the chosen segments', async () => {
    const api = recordingApi({
      users: async () => [
        { name: 'demo', segments: ['lab'], digest: false, enabled: true, admin: false, source: 'config' as const },
        { name: 'alice', segments: ['lab'], digest: true, enabled: false, admin: false, source: 'store' as const },
      ],
    });
    withApp(api, <Users />);
    const table = await screen.findByRole('table', { name: /Users/ });
    const demo = within(table).getByText('demo').closest('tr')!;
    expect(within(demo).queryAllByRole('button')).toEqual([]);
    expect(within(demo).getByText('change it with elink user')).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Enable user alice' })).toBeTruthy();
    fireEvent.input(screen.getByLabelText('Name'), { target: { value: 'ops' } });
    fireEvent.input(screen.getByLabelText('Password'), { target: { value: 'ops-password' } });
    fireEvent.click(await screen.findByLabelText('lab'));
    fireEvent.click(screen.getByLabelText(/may sign in to this console/));
    fireEvent.click(screen.getByRole('button', { name: 'Add user' }));
    await waitFor(() => expect(api.calls).toContain('addUser({"name":"ops","password":"ops-password","segments":["lab"],"admin":true})'));
    expect((await screen.findByRole('status')).textContent).toBe('User ops added.');
  });
});

describe('Chart', () => {
  it('states the newest values in its accessible name (no canvas here: the text stands alone)', () => {
    const s = new Series(['rx bit/s', 'tx bit/s'], 10);
    render(<Chart id="x" title="Throughput" series={s} format={bitRateBps} version={0} />);
    expect(screen.getByRole('img', { name: 'Throughput: no data yet' })).toBeTruthy();
    cleanup();
    s.push(1, [8_000_000, 64_000]);
    render(<Chart id="x" title="Throughput" series={s} format={bitRateBps} version={1} />);
    expect(screen.getByRole('img', { name: 'Throughput: rx 8.00 Mbit/s, tx 64.0 kbit/s' })).toBeTruthy();
  });
});

describe('App', () => {
  it('starts at the sign-in form without a session, and signs out back to it', async () => {
    const api = recordingApi();
    const streams: string[] = [];
    const live = new Live('/v1/admin/events', (url) => {
      streams.push(url);
      return Object.assign(new EventTarget(), { close: () => streams.push('closed'), readyState: 0 });
    });
    render(<App api={api} live={live} />);
    fireEvent.input(await screen.findByLabelText('Admin token'), { target: { value: 'right-token' } });
    fireEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(await screen.findByRole('navigation', { name: 'Main' })).toBeTruthy();
    expect(await screen.findByRole('heading', { name: 'Overview' })).toBeTruthy();
    await waitFor(() => expect(streams).toEqual(['/v1/admin/events']));
    fireEvent.click(screen.getByRole('button', { name: 'Sign out' }));
    expect(await screen.findByLabelText('Admin token')).toBeTruthy();
    expect(api.calls).toContain('logout()');
    await waitFor(() => expect(streams).toEqual(['/v1/admin/events', 'closed']));
  });
});
