import { describe, expect, it } from 'vitest';
import { commandIdOf, commands, loadCommand, type CommandId } from './commands.ts';

describe('commandIdOf', () => {
  it.each([
    [['cluster', 'peers', '--json'], 'cluster:peers'],
    [['run', 'ns/app', '--set', 'a=1'], 'run'],
    [['ps'], 'ps'],
    [['cluster', 'join-token', '--ttl', '1h'], 'cluster:join-token'],
    [['cluster'], undefined],
    [['cluster', '--help'], undefined],
    [['help', 'ps'], undefined],
    [['--version'], undefined],
    [[], undefined],
    [['pss'], undefined],
  ])('%j names %s', (argv, id) => {
    expect(commandIdOf(argv)).toBe(id);
  });
});

describe('commands', () => {
  it('loads a command class with a description and examples for every id', async () => {
    for (const id of Object.keys(commands) as CommandId[]) {
      const command = (await loadCommand(id)) as { description?: string; examples?: unknown[] };
      expect(command.description, id).toBeTruthy();
      expect(command.examples?.length, id).toBeGreaterThan(0);
    }
  });
});
