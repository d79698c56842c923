import { Limiter } from './Limiter';

describe('Limiter', () => {
  it('runs at most the total at once and at most the per-key limit per key; a busy key does not hold up the others', async () => {
    const limiter = new Limiter(3, 2);
    const running = new Map<string, number>();
    let peak = 0;
    const peakPerKey = new Map<string, number>();
    const order: string[] = [];
    const gates: Array<() => void> = [];
    const job = (key: string, hold: boolean) =>
      limiter.run(key, async () => {
        running.set(key, (running.get(key) ?? 0) + 1);
        peak = Math.max(peak, [...running.values()].reduce((a, b) => a + b, 0));
        peakPerKey.set(key, Math.max(peakPerKey.get(key) ?? 0, running.get(key)!));
        order.push(key);
        if (hold) await new Promise<void>(resolve => gates.push(resolve));
        else await new Promise(resolve => setTimeout(resolve, 5));
        running.set(key, running.get(key)! - 1);
      });
    // Five jobs of a slow key that hold their slot, then five quick jobs of another key.
    const slow = Array.from({ length: 5 }, () => job('slow', true));
    const quick = Array.from({ length: 5 }, () => job('quick', false));
    await Promise.all(quick);
    expect(peakPerKey.get('slow')).toBe(2);
    expect(peak).toBe(3);
    expect(order.filter(k => k === 'quick')).toHaveLength(5);
    while (gates.length) {
      gates.shift()!();
      await new Promise(resolve => setTimeout(resolve, 1));
    }
    await Promise.all(slow);
    expect(order.filter(k => k === 'slow')).toHaveLength(5);
    expect(peakPerKey.get('slow')).toBe(2);
  });
});
