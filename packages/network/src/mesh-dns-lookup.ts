import { toDnsLabel, type ObservedWorkload, type Workload } from '@monk/model';
import type { DnsRecords, DnsService } from './dns-server.ts';
import { meshTargetOf, parseMeshDnsName } from './dns-names.ts';

/**
 * The answer for a `.monk` name from the graph: `<runnable>.<namespace>.monk` stands for every container of
 * the runnable, `<container>.<runnable>.<namespace>.monk` for one of its containers; each answers with the
 * mesh addresses of its ready instances, wherever they run (every peer writes its instances' `address` to
 * their observed state). A name no workload has is undefined (NXDOMAIN); one whose instances are not ready
 * has no addresses. The services of the matching workloads (`Workload.services`) answer SRV queries,
 * `_<service>._<protocol>.<name>`, with the name as target. The runnable `shop/web` is namespace `shop`, runnable `web`; in a longer path the
 * namespace is all before the last `/`.
 *
 * @example
 * meshDnsRecords('web.shop.monk', { workloads, observed: (id) => graph.getObserved(id) });
 * // { addresses: ['10.240.17.2'] }
 */
export function meshDnsRecords(
  name: string,
  graph: {
    readonly workloads: readonly Workload[];
    readonly observed: (workloadId: string) => ObservedWorkload | undefined;
  },
  zone = 'monk',
): DnsRecords | undefined {
  const target = parseMeshDnsName(name, zone);
  if (target === undefined) return undefined;
  const matching = graph.workloads.filter((w) => {
    const { namespace, runnable } = meshTargetOf(w.runnable);
    return (
      toDnsLabel(runnable) === target.runnable &&
      toDnsLabel(namespace) === target.namespace &&
      (target.container === undefined || toDnsLabel(w.container) === target.container)
    );
  });
  if (matching.length === 0) return undefined;
  const addresses: string[] = [];
  const services = new Map<string, DnsService>();
  for (const workload of matching) {
    for (const service of workload.services ?? []) {
      services.set(`${service.name}/${service.protocol}/${service.port}`, service);
    }
    const observed = graph.observed(workload.id);
    if (observed?.ready === true && observed.address !== undefined && !addresses.includes(observed.address)) {
      addresses.push(observed.address);
    }
  }
  return services.size === 0 ? { addresses } : { addresses, services: [...services.values()] };
}
