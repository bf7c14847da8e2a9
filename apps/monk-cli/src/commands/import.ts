import { access, readFile, writeFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { Args, Flags } from '@oclif/core';
import { stringify } from 'yaml';
import { MonkError } from '@monk/model';
import { MonkCommand } from '../base-command.ts';

export interface ImportResult {
  readonly namespace: string;
  /** Where the MonkScript was written; absent when it went to standard output. */
  readonly output?: string;
  /** The MonkScript itself, with --json and no --output. */
  readonly yaml?: string;
  /** What the Compose file says that monk imports differently or leaves out. */
  readonly warnings: readonly string[];
  /** Secrets the Compose file supplies, to add with `monk secrets add` before running. */
  readonly secrets: readonly string[];
}

/**
 * A MonkScript file from a Compose import: a header saying where it came from and what was not imported
 * as-is, then the documents. Loading it gives the same templates as loading the Compose file.
 */
export async function renderImported(options: {
  source: string;
  documents: readonly unknown[];
  warnings: readonly string[];
  secrets: readonly string[];
}): Promise<string> {
  const header = [
    `# Imported from ${options.source} by monk import: edit it, then load it with monk load.`,
    ...options.warnings.map((warning) => `# warning: ${warning.replace(/\n/g, ' ')}`),
    ...options.secrets.map((name) => `# secret ${name}: add it with monk secrets add -g ${name}=VALUE`),
  ];
  const body = options.documents
    .map((document) => stringify(document, { lineWidth: 0, aliasDuplicateObjects: false }))
    .join('---\n');
  return `${header.join('\n')}\n${body}`;
}

export class Import extends MonkCommand {
  static override description =
    'Convert a Docker Compose file into a MonkScript file you can edit and load with monk load. The ' +
    'project becomes the namespace (--namespace to choose it); each service a runnable, plus a group ' +
    "that runs them all. Compose's ${VAR} are interpolated from this environment and the .env beside the " +
    'file. Does not need monkd.';
  static override examples = [
    '<%= config.bin %> import compose.yaml -o shop.yaml',
    '<%= config.bin %> import docker-compose.yml --namespace shop > shop.yaml',
    '<%= config.bin %> load shop.yaml && <%= config.bin %> run shop/shop',
  ];
  static override args = {
    file: Args.string({ required: true, description: 'a Compose file (compose.yaml, docker-compose.yml)' }),
  };
  static override flags = {
    output: Flags.string({ char: 'o', description: 'write the MonkScript here (default: standard output)' }),
    namespace: Flags.string({
      char: 'n',
      aliases: ['ns'],
      description: 'the namespace (default: the Compose project name)',
    }),
    force: Flags.boolean({ description: 'overwrite --output if it exists' }),
  };

  async run(): Promise<ImportResult> {
    const { args, flags } = await this.parse(Import);
    const file = resolve(args.file);
    const contents = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
      throw new MonkError('TEMPLATE_NOT_FOUND', `cannot read ${args.file}: ${error.code ?? error.message}`, {
        cause: error,
      });
    });
    const output = flags.output === undefined ? undefined : resolve(flags.output);
    if (output !== undefined && !flags.force && (await exists(output))) {
      throw new MonkError('INVALID_REQUEST', `${flags.output} exists; give --force to overwrite it`);
    }
    if (flags.namespace !== undefined && !/^[a-z0-9][a-z0-9_-]*$/.test(flags.namespace)) {
      throw new MonkError(
        'INVALID_REQUEST',
        `--namespace ${flags.namespace}: use lower-case letters, digits, _ and -, starting with a letter or digit`,
      );
    }
    const { importCompose } = await import('@monk/monkscript');
    const environment = Object.fromEntries(
      Object.entries(process.env).filter((entry): entry is [string, string] => entry[1] !== undefined),
    );
    const imported = await importCompose({
      file,
      contents,
      files: { readFile: (path) => readFile(path, 'utf8'), exists },
      environment,
      ...(flags.namespace === undefined ? {} : { projectName: flags.namespace }),
    });
    const warnings = imported.warnings.map(
      (w) => `${w.service === undefined ? '' : `service ${w.service}: `}${w.key}: ${w.message}`,
    );
    const secrets = imported.secrets.map((secret) => secret.name);
    const yaml = await renderImported({
      source: basename(file),
      documents: imported.documents,
      warnings,
      secrets,
    });
    if (output !== undefined) await writeFile(output, yaml);
    else if (!this.jsonEnabled()) process.stdout.write(yaml);
    if (!this.jsonEnabled()) {
      for (const warning of warnings) process.stderr.write(`warning: ${warning}\n`);
      for (const name of secrets) {
        process.stderr.write(
          `secret ${name} comes from the Compose file: add it with monk secrets add -g ${name}=VALUE\n`,
        );
      }
      if (output !== undefined) {
        this.log(
          `Wrote namespace ${imported.namespace} to ${flags.output ?? output}; load it with monk load ${flags.output ?? output}`,
        );
      }
    }
    return {
      namespace: imported.namespace,
      ...(output === undefined ? { yaml } : { output }),
      warnings,
      secrets,
    };
  }
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
