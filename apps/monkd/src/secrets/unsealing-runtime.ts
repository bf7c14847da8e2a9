import type { ContainerRuntime } from '@monk/runtime';
import type { SecretStore } from './secret-store.ts';

/**
 * A container runtime that unseals secret-derived values (see {@link SecretStore.seal}) just before they
 * reach the engine: in the spec of a container it creates, in files it writes and in the argv of `exec`
 * (readiness checks carry secret variables sealed). Everything else passes through. Specs stay sealed in the graph, in plans and in logs.
 *
 * @example
 * const runtime = withUnsealedSecrets(createDockerRuntime({ socketPath }), secrets);
 */
export function withUnsealedSecrets(runtime: ContainerRuntime, secrets: SecretStore): ContainerRuntime {
  return {
    info: () => runtime.info(),
    listContainers: (options) => runtime.listContainers(options),
    inspectContainer: (id) => runtime.inspectContainer(id),
    createContainer: async (options) =>
      runtime.createContainer({ ...options, spec: await secrets.unsealSpec(options.spec) }),
    startContainer: (id) => runtime.startContainer(id),
    stopContainer: (id, options) => runtime.stopContainer(id, options),
    removeContainer: (id, options) => runtime.removeContainer(id, options),
    putFiles: async (id, files) => runtime.putFiles(id, await secrets.unsealFiles(files)),
    logs: (id, options) => runtime.logs(id, options),
    // Readiness checks and actions carry secret variables sealed: `exec(…, $password)` must get the value.
    exec: async (id, options) =>
      runtime.exec(id, { ...options, command: await secrets.unsealWords(options.command) }),
    execStream: (id, options) => runtime.execStream(id, options),
    events: (options) => runtime.events(options),
    ensureNetwork: (name, options) => runtime.ensureNetwork(name, options),
    removeNetwork: (name) => runtime.removeNetwork(name),
    stats: (id) => runtime.stats(id),
    hasImage: (ref) => runtime.hasImage(ref),
  };
}
