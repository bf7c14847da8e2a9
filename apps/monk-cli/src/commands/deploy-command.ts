import { Args, Flags } from '@oclif/core';
import { MonkError } from '@monk/model';
import type { DeployResult, ProgressEvent } from '@monk/sdk';
import { MonkCommand, parseSetFlags } from '../base-command.ts';
import { renderPs } from '../render.ts';
import { readVariablesFile } from '../variables-file.ts';

export const deployArgs = {
  path: Args.string({ required: true, description: 'template path, e.g. ns/app' }),
};
export const deployFlags = {
  set: Flags.string({ multiple: true, description: 'set a variable: name=value or ns/runnable/name=value' }),
  'variables-file': Flags.string({
    description: 'YAML file of variables (name: value, or ns/runnable: {name: value})',
  }),
  'no-wait': Flags.boolean({
    description: 'return once the change is accepted, without waiting for readiness',
  }),
  timeout: Flags.integer({ description: 'seconds to wait for every instance to be ready', default: 300 }),
  strict: Flags.boolean({
    description: 'refuse a --set of a variable the template does not declare (default: warn)',
  }),
};
/** `run` also pins new instances to a peer. */
export const runFlags = {
  ...deployFlags,
  peer: Flags.string({
    char: 'p',
    description: 'run the new instances on this peer (name, id or unique prefix of an id)',
  }),
  tag: Flags.string({
    char: 't',
    multiple: true,
    description: 'run only on peers with this tag (repeat for several; kept for later updates)',
  }),
  'force-move': Flags.boolean({
    description: 'place every instance again, not only new ones (instances with a volume stay)',
  }),
};

/** What `run` and `update` share: variables, waiting, live progress per container. oclif reads each
 * command's own static args and flags, so subclasses declare `deployArgs`/`deployFlags` themselves. */
export abstract class DeployCommand extends MonkCommand {
  protected async deploy(method: 'run' | 'update'): Promise<DeployResult> {
    const { args, flags } = await this.parse({
      args: deployArgs,
      flags: runFlags,
      baseFlags: MonkCommand.baseFlags,
      enableJsonFlag: true,
    });
    const variables = {
      ...(flags['variables-file'] === undefined ? {} : await readVariablesFile(flags['variables-file'])),
      ...parseSetFlags(flags.set),
    };
    const client = this.client();
    const quiet = this.jsonEnabled();
    const onProgress = (event: ProgressEvent): void => {
      if (quiet) return;
      const detail = event.message === undefined ? '' : `: ${event.message}`;
      process.stderr.write(
        `  ${event.workloadId.padEnd(40)} ${event.ready ? 'ready' : event.phase}${detail}\n`,
      );
    };
    const hasVariables = Object.keys(variables).length > 0;
    const params = {
      path: args.path,
      wait: !flags['no-wait'],
      timeoutSeconds: flags.timeout,
      strict: flags.strict,
      ...(method === 'run' || hasVariables ? { variables } : {}),
    };
    if (
      method === 'update' &&
      (flags.peer !== undefined || flags.tag !== undefined || flags['force-move'] === true)
    ) {
      throw new MonkError(
        'INVALID_REQUEST',
        '--peer, --tag and --force-move decide placement: use them with monk run',
      );
    }
    const runParams = {
      ...params,
      ...(flags.peer === undefined ? {} : { peer: flags.peer }),
      ...(flags.tag === undefined ? {} : { tags: flags.tag }),
      forceMove: flags['force-move'],
    };
    if (!quiet) process.stderr.write(`${method === 'run' ? 'Starting' : 'Updating'} ${args.path}\n`);
    const result =
      method === 'run'
        ? await client.run(runParams, { onProgress })
        : await client.update(params, { onProgress });
    if (!quiet) {
      for (const warning of result.warnings) process.stderr.write(`warning: ${warning}\n`);
      for (const item of result.unschedulable ?? []) {
        process.stderr.write(`unschedulable: ${item.workloadId}: ${item.reason}\n`);
      }
      this.log(renderPs(result.workloads));
      this.log(
        result.ready
          ? `\n${args.path} is ready.`
          : `\n${args.path} was accepted (generation ${result.generation}).`,
      );
    }
    return result;
  }
}
