import type { PsEntry } from '@monk/sdk';
import { describe, expect, it } from 'vitest';
import { renderPs, statusOf } from './render.ts';

const base: PsEntry = {
  workloadId: 'examples/web#web',
  deployment: 'examples/web',
  runnable: 'examples/web',
  container: 'web',
  name: 'web-a1b2c3',
  image: 'monk-local/busybox:latest',
  peer: '12D3KooWAbCdEfGhIjKlMnOpQrStUvWxYz',
  desired: 'running',
  phase: 'ready',
  state: 'ready',
  ready: true,
  restarts: 0,
  ports: ['8080->80/tcp'],
};

describe('statusOf', () => {
  it.each<{ name: string; entry: PsEntry; status: string }>([
    { name: 'ready', entry: base, status: 'running, ready' },
    {
      name: 'runtime unavailable: the last phase was ready, but nobody can see it now',
      entry: {
        ...base,
        state: 'unknown',
        reason: 'runtime unavailable',
        ready: false,
        errorCode: 'RUNTIME_UNAVAILABLE',
        message: 'container runtime unavailable: connect ENOENT /var/run/docker.sock',
      },
      status: 'unknown: runtime unavailable',
    },
    {
      name: 'owner dead',
      entry: { ...base, state: 'unknown', reason: 'peer dead', ready: false },
      status: 'unknown: peer dead',
    },
    {
      name: 'running, not ready yet',
      entry: { ...base, phase: 'running', state: 'running', ready: false, message: 'waiting for port 80' },
      status: 'running: waiting for port 80',
    },
    {
      name: 'backoff with restarts',
      entry: {
        ...base,
        phase: 'backoff',
        state: 'backoff',
        ready: false,
        restarts: 2,
        message: 'exited with code 1',
      },
      status: 'backoff (2 restarts): exited with code 1',
    },
  ])('$name', ({ entry, status }) => {
    expect(statusOf(entry)).toBe(status);
  });

  it('prints the table from the same rows --json returns', () => {
    expect(
      renderPs([
        base,
        {
          ...base,
          workloadId: 'examples/web#db',
          name: 'db-a1b2c3',
          ports: [],
          state: 'unknown',
          reason: 'peer dead',
          ready: false,
        },
      ]),
    ).toMatchInlineSnapshot(`
      "RUNNABLE       CONTAINER    PEER            IMAGE                       PORTS          STATUS
      examples/web   web-a1b2c3   12D3Ko…UvWxYz   monk-local/busybox:latest   8080->80/tcp   running, ready
      examples/web   db-a1b2c3    12D3Ko…UvWxYz   monk-local/busybox:latest                  unknown: peer dead"
    `);
  });

  it('shows an unschedulable instance with no peer and why', () => {
    expect(
      renderPs([
        {
          ...base,
          peer: '',
          state: 'pending',
          ready: false,
          unschedulable: 'no peer fits: p1: lacks tag gpu',
          ports: [],
        },
      ]),
    ).toMatchInlineSnapshot(`
      "RUNNABLE       CONTAINER    PEER   IMAGE                       PORTS   STATUS
      examples/web   web-a1b2c3   -      monk-local/busybox:latest           unschedulable: no peer fits: p1: lacks tag gpu"
    `);
  });
});
