import { join } from 'node:path';
import {
  createFileStore,
  createGraph,
  salvageFileStore,
  type Graph,
  type GraphOptions,
  type GraphSalvage,
} from '@monk/graph';
import { MonkError, monkLabels, type JsonObject } from '@monk/model';
import type { ContainerRuntime } from '@monk/runtime';
import { readDataJson, writeDataFile } from './data-file.ts';
import type { Logger } from './logger.ts';

/**
 * How this start dealt with a damaged graph store:
 * - `cluster`: a member of a cluster salvaged what was intact and must catch up from a neighbour before
 *   it acts on the graph;
 * - `operator`: a lone peer started with `--recover-graph`; what its graph lost is gone, so the containers
 *   the salvaged graph does not know are spared rather than removed.
 */
export interface GraphRecovery {
  readonly mode: 'cluster' | 'operator';
  readonly salvage: GraphSalvage;
  /** What the damage was (the GRAPH_CORRUPT message). */
  readonly damage: string;
}

/**
 * Opens this peer's graph from `<data-dir>/graph`. A damaged store is never acted on silently: a lone peer
 * refuses to start (GRAPH_CORRUPT, with the repair command) unless `recoverGraph` is set; a cluster member
 * sets the damaged files aside, keeps what is intact and recovers the rest from its peers.
 */
export async function openGraph(
  options: {
    readonly dataDir: string;
    readonly member: boolean;
    readonly recoverGraph: boolean;
    readonly graph: Omit<GraphOptions, 'store'>;
  },
  components: { readonly logger: Logger; readonly runtime: Pick<ContainerRuntime, 'info'> },
): Promise<{ graph: Graph; recovery?: GraphRecovery }> {
  const { logger, runtime } = components;
  const dir = join(options.dataDir, 'graph');
  const open = (): Promise<Graph> => createGraph({ ...options.graph, store: createFileStore({ dir }) });
  let damage: MonkError;
  try {
    return { graph: await open() };
  } catch (error) {
    if (!(error instanceof MonkError) || error.code !== 'GRAPH_CORRUPT') throw error;
    damage = error;
  }
  if (!options.member && !options.recoverGraph) {
    throw new MonkError(
      'GRAPH_CORRUPT',
      `${damage.message}. monkd does not start on a damaged graph, so nothing was changed and no ` +
        `container was stopped. To keep a copy of the damaged file and start from the records that are ` +
        `intact (containers the recovered graph does not know are left running), run: ` +
        `monkd --data-dir ${options.dataDir} --recover-graph`,
      { cause: damage, ...(damage.details === undefined ? {} : { details: damage.details }) },
    );
  }
  const mode = options.member ? 'cluster' : 'operator';
  if (mode === 'operator') {
    // The containers the salvaged graph loses are spared by listing them: that needs the engine now.
    await runtime.info().catch((error: unknown) => {
      throw new MonkError(
        'RUNTIME_UNAVAILABLE',
        `--recover-graph needs the container engine, to leave running the containers the damaged graph ` +
          `loses; nothing was changed. Start the engine and run it again (${(error as Error).message})`,
        { cause: error },
      );
    });
  }
  const salvage = await salvageFileStore({ dir });
  logger.warn(
    mode === 'cluster'
      ? 'the graph on disk is damaged: kept a copy and the intact records; recovering the rest from the cluster peers before acting on it'
      : 'the graph on disk is damaged: kept a copy and started from the intact records (--recover-graph)',
    { damage: damage.message, salvage: salvage as unknown as JsonObject },
  );
  return { graph: await open(), recovery: { mode, salvage, damage: damage.message } };
}

const sparedFile = 'spared-containers.json';

/**
 * The containers of this peer that a graph recovered with `--recover-graph` no longer knows: they are
 * left running (never removed as "no longer desired"), and remembered in `<data-dir>/spared-containers.json`
 * so that a later restart spares them too. Running their template again adopts or replaces them.
 */
export async function spareUnknownContainers(
  options: { readonly dataDir: string; readonly peerId: string },
  components: { readonly graph: Graph; readonly runtime: ContainerRuntime; readonly logger: Logger },
): Promise<void> {
  const known = new Set(components.graph.listWorkloads().map((w) => w.id));
  const containers = await components.runtime.listContainers({
    all: true,
    labels: { [monkLabels.managed]: 'true', [monkLabels.peer]: options.peerId },
  });
  const unknown = containers.filter((c) => !known.has(c.labels[monkLabels.workload] ?? ''));
  const spared = [
    ...new Set([...(await readSparedContainers(options.dataDir)), ...unknown.map((c) => c.id)]),
  ];
  await writeDataFile(join(options.dataDir, sparedFile), `${JSON.stringify(spared, null, 2)}\n`);
  if (unknown.length > 0) {
    components.logger.warn(
      `left ${unknown.length} container(s) running that the recovered graph does not know; run their templates again to manage them, or remove them with docker rm`,
      { containers: unknown.map((c) => c.name) },
    );
  }
}

/** The container IDs spared by an earlier `--recover-graph` (empty when there was none). */
export async function readSparedContainers(dataDir: string): Promise<string[]> {
  const path = join(dataDir, sparedFile);
  const value = await readDataJson(path);
  if (value === undefined) return [];
  if (Array.isArray(value) && value.every((id) => typeof id === 'string')) return value;
  throw new MonkError(
    'DATA_FILE_INVALID',
    `${path} is not a JSON list of container IDs; fix or delete it (deleting it lets monkd remove the containers it lists)`,
    { details: { file: path } },
  );
}
