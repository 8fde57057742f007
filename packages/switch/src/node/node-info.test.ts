/** What a switch node says about itself: `software` in welcome, drain state and capacity on /metrics. */
import { describe, expect, it } from 'vitest';
import { startNode, useSwitchHarness } from '../testing/test-node.js';
import { mac } from '../testing/test-frames.js';

const { fx, running, clients } = useSwitchHarness();

const gauge = async (t: Awaited<ReturnType<typeof startNode>>, name: string) => (await t.registry.getSingleMetric(name)!.get()).values[0]?.value;

describe('SwitchNode self-description', () => {
  it('sends its software in welcome when configured, and nothing when not', async () => {
    const withSoftware = await startNode(fx, { software: 'elink/9.8.7' });
    const plain = await startNode(fx);
    running.push(withSoftware, plain);
    const a = await withSoftware.connect();
    const b = await plain.connect();
    clients.push(a, b);
    expect((await a.join(fx.ticket(), mac(1))).software).toBe('elink/9.8.7');
    expect((await b.join(fx.ticket(), mac(2))).software).toBeUndefined();
  });

  it('exports el_switch_session_capacity and el_switch_draining, 0 then 1 once the drain starts', async () => {
    const t = await startNode(fx, { maxSessions: 123 });
    running.push(t);
    expect(await gauge(t, 'el_switch_session_capacity')).toBe(123);
    expect(await gauge(t, 'el_switch_draining')).toBe(0);
    await t.node.drain('drain', { timeoutMs: 100 });
    expect(await gauge(t, 'el_switch_draining')).toBe(1);
  });
});
