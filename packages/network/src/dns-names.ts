import { toDnsLabel } from '@monk/model';

/** Who a `.monk` name stands for: a runnable (every instance) or one container of it. */
export interface MeshDnsTarget {
  readonly namespace: string;
  readonly runnable: string;
  readonly container?: string | undefined;
}

/**
 * The DNS name of a runnable, `<runnable>.<namespace>.<zone>`, or of one of its containers,
 * `<container>.<runnable>.<namespace>.<zone>`. Each part becomes a DNS label (lower-case, `[a-z0-9-]`, at
 * most 63 characters), so `shop/Web_Front` is `web-front.shop.monk`.
 *
 * @example
 * meshDnsName({ namespace: 'shop', runnable: 'web' }); // 'web.shop.monk'
 * meshDnsName({ namespace: 'shop', runnable: 'web', container: 'nginx' }); // 'nginx.web.shop.monk'
 */
export function meshDnsName(target: MeshDnsTarget, zone = 'monk'): string {
  const labels = [target.runnable, target.namespace].map(toDnsLabel);
  if (target.container !== undefined) labels.unshift(toDnsLabel(target.container));
  return [...labels, zone].join('.');
}

/**
 * The mesh DNS name of a runnable path (`ns/name`; in a longer path the namespace is all before the last
 * `/`) or of one of its containers: what `connection-hostname` and `get-hostname` return in the mesh, and
 * what {@link meshDnsRecords} answers for.
 *
 * @example
 * runnableMeshDnsName('shop/web'); // 'web.shop.monk'
 * runnableMeshDnsName('shop/web', 'nginx'); // 'nginx.web.shop.monk'
 */
export function runnableMeshDnsName(runnablePath: string, container?: string, zone = 'monk'): string {
  return meshDnsName({ ...meshTargetOf(runnablePath), container }, zone);
}

/** Namespace and runnable of a runnable path: all before the last `/`, and the rest. */
export function meshTargetOf(runnablePath: string): { namespace: string; runnable: string } {
  const slash = runnablePath.lastIndexOf('/');
  return {
    namespace: slash < 0 ? '' : runnablePath.slice(0, slash),
    runnable: runnablePath.slice(slash + 1),
  };
}

/**
 * The reverse of {@link meshDnsName} for a lower-case name without the trailing dot (what a `DnsLookup`
 * receives): the labels, or undefined for a name of another shape. Labels are compared with
 * `toDnsLabel` of the namespace, runnable and container names by whoever answers.
 */
export function parseMeshDnsName(name: string, zone = 'monk'): MeshDnsTarget | undefined {
  const suffix = `.${zone}`;
  if (!name.endsWith(suffix)) return undefined;
  const labels = name.slice(0, -suffix.length).split('.');
  if (labels.some((l) => l === '')) return undefined;
  if (labels.length === 2) return { runnable: labels[0] ?? '', namespace: labels[1] ?? '' };
  if (labels.length === 3)
    return { container: labels[0], runnable: labels[1] ?? '', namespace: labels[2] ?? '' };
  return undefined;
}
