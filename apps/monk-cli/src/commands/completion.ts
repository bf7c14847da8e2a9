import { Args } from '@oclif/core';
import { MonkCommand } from '../base-command.ts';
import { bashCompletionScript, zshCompletionScript, type CompletionCommand } from './completion-script.ts';

/** Arguments whose value is a template path (or starts with one, as `monk do NS/RUNNABLE/ACTION`). */
const pathArgs = new Set(['path', 'action', 'runnable']);

export class Completion extends MonkCommand {
  static override description =
    'Print a shell completion script for bash or zsh: it completes commands, their flags, and template ' +
    'paths (from monk list, when monkd answers).';
  static override examples = [
    'source <(<%= config.bin %> completion bash)',
    '<%= config.bin %> completion bash > /etc/bash_completion.d/monk',
    '<%= config.bin %> completion zsh > "${fpath[1]}/_monk"',
  ];
  static override args = {
    shell: Args.string({ required: true, options: ['bash', 'zsh'], description: 'the shell' }),
  };

  async run(): Promise<{ shell: string; script: string }> {
    const { args } = await this.parse(Completion);
    const commands: CompletionCommand[] = this.config.commands
      .filter((command) => command.hidden !== true)
      .flatMap((command) => {
        const entry = {
          flags: Object.entries(command.flags)
            .filter(([, flag]) => flag.hidden !== true)
            .map(([name, flag]) => ({
              name,
              ...(flag.char === undefined ? {} : { char: flag.char }),
              takesValue: flag.type === 'option',
            })),
          takesPath: Object.keys(command.args).some((name) => pathArgs.has(name)),
        };
        return [command.id, ...command.aliases].map((id) => ({ id, ...entry }));
      })
      .sort((a, b) => a.id.localeCompare(b.id));
    const script = args.shell === 'zsh' ? zshCompletionScript(commands) : bashCompletionScript(commands);
    if (!this.jsonEnabled()) process.stdout.write(script);
    return { shell: args.shell, script };
  }
}
