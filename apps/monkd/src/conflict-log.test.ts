import { describe, expect, it } from 'vitest';
import { createGraph, createGraphSync, type SyncTransport } from '@monk/graph';
import type { Logger } from './logger.ts';
import { logConflicts } from './conflict-log.ts';

function recordingLogger(lines: string[]): Logger {
  const logger: Logger = {
    debug: () => undefined,
    info: () => undefined,
    warn: (message) => lines.push(message),
    error: () => undefined,
    child: () => logger,
  };
  return logger;
}

/** Two replicas joined by a switchable in-process link (delivery is synchronous). */
function link() {
  const handlers = new Map<string, (peer: string, message: Uint8Array) => void>();
  const connected = new Map<string, (peer: string) => void>();
  let up = false;
  const transport = (self: string, other: string): SyncTransport => ({
    peers: () => (up ? [other] : []),
    send: (peer, message) => {
      if (up) handlers.get(peer)?.(self, message);
    },
    onMessage: (handler) => {
      handlers.set(self, handler);
      return () => handlers.delete(self);
    },
    onPeerConnected: (handler) => {
      connected.set(self, handler);
      return () => connected.delete(self);
    },
  });
  return {
    transport,
    connect() {
      up = true;
      connected.get('a')?.('b');
      connected.get('b')?.('a');
    },
  };
}

describe('logConflicts', () => {
  it('warns once per lost write, naming both writes, on the peer whose write lost too', async () => {
    const net = link();
    const a = await createGraph({ peerId: 'a', clock: () => new Date(Date.UTC(2026, 0, 1, 12, 0, 0)) });
    const b = await createGraph({ peerId: 'b', clock: () => new Date(Date.UTC(2026, 0, 1, 12, 0, 4)) });
    const lines: string[] = [];
    const stop = logConflicts({ graph: a, logger: recordingLogger(lines) });
    const deployment = { path: 'ns/app', state: 'running' as const, generation: 2, updatedAt: '' };
    a.putDeployment({ ...deployment, variables: { greeting: 'majority' } });
    b.putDeployment({ ...deployment, variables: { greeting: 'minority' } });
    const syncs = [
      createGraphSync({ graph: a, transport: net.transport('a', 'b'), antiEntropyIntervalMs: 0 }),
      createGraphSync({ graph: b, transport: net.transport('b', 'a'), antiEntropyIntervalMs: 0 }),
    ];
    net.connect();
    expect(a.getDeployment('ns/app')?.variables).toEqual({ greeting: 'minority' });
    expect(lines).toEqual([
      'ns/app: the write by a at 2026-01-01T12:00:00.000Z (greeting=majority) lost to a concurrent later write by b at 2026-01-01T12:00:04.000Z (greeting=minority)',
    ]);
    a.putDeployment({ ...deployment, generation: 3, variables: { greeting: 'later' } });
    expect(lines).toHaveLength(1);
    stop();
    for (const sync of syncs) sync.close();
    await a.close();
    await b.close();
  });
});
