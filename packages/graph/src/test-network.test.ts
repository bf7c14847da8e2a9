import { describe, expect, it } from 'vitest';
import { createPrng, createTestNetwork } from './test-network.ts';

describe('createTestNetwork', () => {
  it('is reproducible from its seed', () => {
    const a = createPrng(42);
    const b = createPrng(42);
    const values = Array.from({ length: 5 }, () => a());
    expect(Array.from({ length: 5 }, () => b())).toEqual(values);
    expect(values.every((value) => value >= 0 && value < 1)).toBe(true);
    expect(createPrng(43)()).not.toBe(values[0]);
  });

  it('announces links, delivers, partitions and heals', () => {
    const network = createTestNetwork({ seed: 1 });
    const received: string[] = [];
    const connected: string[] = [];
    const a = network.transport('a');
    const b = network.transport('b');
    b.onMessage((from, message) => received.push(`${from}:${message[0]}`));
    b.onPeerConnected((peer) => connected.push(peer));
    network.link('a', 'b');
    expect(a.peers()).toEqual(['b']);
    a.send('b', new Uint8Array([1]));
    network.partition([['a'], ['b']]);
    expect(network.run()).toBe(1);
    expect(a.peers()).toEqual([]);
    a.send('b', new Uint8Array([2]));
    expect(network.inFlight()).toBe(0);
    network.heal();
    a.send('b', new Uint8Array([3]));
    network.run();
    expect(received).toEqual(['a:3']);
    expect(connected).toEqual(['a', 'a']);
  });

  it('drops and duplicates with the configured probabilities', () => {
    const network = createTestNetwork({ seed: 3, faults: { duplicate: 1 } });
    let count = 0;
    network.transport('b').onMessage(() => count++);
    network.link('a', 'b');
    network.transport('a').send('b', new Uint8Array([1]));
    network.run(5);
    expect(count).toBe(5);
    network.setFaults({ duplicate: 0, drop: 1 });
    network.run();
    count = 0;
    network.transport('a').send('b', new Uint8Array([1]));
    network.run();
    expect(count).toBe(0);
  });
});
