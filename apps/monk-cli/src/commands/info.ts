import { Args } from '@oclif/core';
import type { TemplateInfo } from '@monk/monkscript';
import type { InfoResult } from '@monk/sdk';
import { MonkCommand } from '../base-command.ts';
import { describeTarget } from '../context/control-target.ts';

export class Info extends MonkCommand {
  static override description =
    "With a template path: the template's metadata, variables, services and actions (inheritance merged). Without: the monkd this CLI talks to (peer, version, data dir, container runtime).";
  static override examples = [
    '<%= config.bin %> info',
    '<%= config.bin %> info postgresql/db',
    '<%= config.bin %> info postgresql/db --json',
  ];
  static override args = {
    path: Args.string({ required: false, description: 'template path, e.g. ns/app' }),
  };

  async run(): Promise<(InfoResult & { context: string }) | TemplateInfo> {
    const { args } = await this.parse(Info);
    if (args.path !== undefined) return this.template(args.path);
    const context = describeTarget(this.target());
    const info = await this.client().info();
    if (!this.jsonEnabled()) {
      this.log(
        [
          `context:  ${context}`,
          `peer:     ${info.peerName} (${info.peerId})`,
          `version:  ${info.version}`,
          `data dir: ${info.dataDir}`,
          `started:  ${info.startedAt}`,
          `runtime:  ${info.runtime.available ? `docker ${info.runtime.version ?? ''}`.trim() : `unavailable: ${info.runtime.message ?? ''}`}`,
          ...(info.problems ?? []).map((p) => `problem:  ${p.code}: ${p.message}`),
        ].join('\n'),
      );
    }
    return { ...info, context };
  }

  private async template(path: string): Promise<TemplateInfo> {
    const definition = await this.client().dumpTemplate({ path });
    const { templateInfo } = await import('@monk/monkscript');
    const info = templateInfo(path, definition);
    if (!this.jsonEnabled()) {
      const { renderTemplateInfo } = await import('../template-info-render.ts');
      this.log(renderTemplateInfo(info));
    }
    return info;
  }
}
