import { Flags } from '@oclif/core';
import type { ConflictEvent } from '@monk/sdk';
import { MonkCommand } from '../base-command.ts';
import { parseSince, renderEvents } from '../render-events.ts';

export class Events extends MonkCommand {
  static override description =
    'List recorded cluster events, oldest first: today, writes to a deployment that lost a race to a concurrent write (both sides of a partition).';
  static override examples = [
    '<%= config.bin %> events',
    '<%= config.bin %> events --since 1h',
    '<%= config.bin %> events --since 2026-12-02T13:00:00Z --json',
  ];
  static override flags = {
    since: Flags.string({
      description: 'only events at or after this time: a duration back (90s, 10m, 2h, 7d) or a date',
    }),
    path: Flags.string({ description: 'only events of this deployment, e.g. ns/app' }),
  };

  async run(): Promise<ConflictEvent[]> {
    const { flags } = await this.parse(Events);
    const events = await this.client().events({
      ...(flags.since === undefined ? {} : { since: parseSince(flags.since, new Date()) }),
      ...(flags.path === undefined ? {} : { path: flags.path }),
    });
    if (!this.jsonEnabled()) this.log(renderEvents(events));
    return events;
  }
}
