import { Args, Flags } from '@oclif/core';
import { MonkError } from '@monk/model';
import type { InstanceStats, StatsResult } from '@monk/sdk';
import { MonkCommand } from '../base-command.ts';
import { renderStats } from './stats-format.ts';

export class Stats extends MonkCommand {
  static override description =
    'Show CPU, memory and network of running instances, read from the container engine of the peer that ' +
    'runs each one. CPU is measured over --interval; with -f the table refreshes until Ctrl-C ' +
    '(with --json, one JSON line per refresh).';
  static override examples = [
    '<%= config.bin %> stats',
    '<%= config.bin %> stats examples/app',
    '<%= config.bin %> stats -f examples/web',
    '<%= config.bin %> stats examples/app --json',
  ];
  static override args = {
    path: Args.string({ required: false, description: 'a deployment, runnable or instance (default: all)' }),
  };
  static override flags = {
    all: Flags.boolean({ char: 'a', description: 'every running instance (what no PATH means; as in Monk)' }),
    follow: Flags.boolean({ char: 'f', description: 'keep refreshing until Ctrl-C' }),
    interval: Flags.integer({
      char: 'i',
      description: 'milliseconds between readings (CPU is averaged over it)',
      default: 1000,
      min: 200,
      max: 60_000,
    }),
  };

  async run(): Promise<StatsResult | undefined> {
    const { args, flags } = await this.parse(Stats);
    if (flags.all && args.path !== undefined) {
      throw new MonkError('INVALID_REQUEST', `give either a PATH (${args.path}) or --all, not both`);
    }
    const params = {
      ...(args.path === undefined ? {} : { path: args.path }),
      intervalMs: flags.interval,
    };
    if (!flags.follow) {
      const result = await this.client().stats({ ...params, follow: false });
      if (!this.jsonEnabled()) {
        this.log(renderStats(result.instances));
        for (const missing of result.unreachable)
          this.warn(`peer ${missing.peer} did not answer: ${missing.message}`);
      }
      return result;
    }
    const controller = new AbortController();
    process.once('SIGINT', () => controller.abort());
    // Each peer streams its own rows; the table is the latest rows of every peer.
    const byPeer = new Map<string, readonly InstanceStats[]>();
    const interactive = process.stdout.isTTY === true && !this.jsonEnabled();
    await this.client()
      .stats(
        { ...params, follow: true },
        {
          signal: controller.signal,
          onStats: (event) => {
            byPeer.set(event.peer, event.instances);
            const instances = [...byPeer.values()]
              .flat()
              .sort((a, b) => a.workloadId.localeCompare(b.workloadId));
            if (this.jsonEnabled()) {
              process.stdout.write(`${JSON.stringify({ instances })}\n`);
            } else {
              // A terminal is redrawn in place; a pipe gets one table per refresh.
              process.stdout.write(`${interactive ? '\x1b[H\x1b[2J' : ''}${renderStats(instances)}\n\n`);
            }
          },
        },
      )
      .catch((error: unknown) => {
        if (!controller.signal.aborted) throw error;
      });
    return undefined;
  }
}
