/** Anything with an id and the ids it depends on. */
export interface DependencyNode {
  readonly id: string;
  readonly dependsOn: readonly string[];
}

/** The result of {@link orderByDependencies}. */
export interface DependencyOrder {
  /** Position of every node: dependencies before dependents, ties by id; nodes in or behind a cycle last. */
  readonly rank: ReadonlyMap<string, number>;
  /** For every node on a dependency cycle, that cycle as a closed path (`[a, b, a]`), from its smallest id. */
  readonly cycles: ReadonlyMap<string, readonly string[]>;
}

/**
 * Orders nodes topologically (Kahn's algorithm, smallest id first among the free ones) and names every
 * cycle instead of looping. Dependencies on ids that are not among `nodes` are ignored here.
 */
export function orderByDependencies(nodes: readonly DependencyNode[]): DependencyOrder {
  const ids = [...new Set(nodes.map((node) => node.id))].sort(compareStrings);
  const edges = new Map<string, string[]>(ids.map((id) => [id, []]));
  for (const node of nodes) {
    for (const dependency of new Set(node.dependsOn)) {
      edges.get(node.id)?.push(dependency);
    }
  }
  for (const [id, dependencies] of edges) {
    edges.set(id, dependencies.filter((dependency) => edges.has(dependency)).sort(compareStrings));
  }
  return { rank: topologicalRank(ids, edges), cycles: findCycles(ids, edges) };
}

function topologicalRank(
  ids: readonly string[],
  edges: ReadonlyMap<string, readonly string[]>,
): Map<string, number> {
  const dependents = new Map<string, string[]>(ids.map((id) => [id, []]));
  const pending = new Map<string, number>();
  for (const id of ids) {
    const dependencies = edges.get(id) ?? [];
    pending.set(id, dependencies.length);
    for (const dependency of dependencies) dependents.get(dependency)?.push(id);
  }
  const free = ids.filter((id) => pending.get(id) === 0);
  const rank = new Map<string, number>();
  while (free.length > 0) {
    const id = free.shift();
    if (id === undefined) break;
    rank.set(id, rank.size);
    for (const dependent of dependents.get(id) ?? []) {
      const left = (pending.get(dependent) ?? 0) - 1;
      pending.set(dependent, left);
      if (left === 0) insertSorted(free, dependent);
    }
  }
  for (const id of ids) if (!rank.has(id)) rank.set(id, rank.size);
  return rank;
}

/** Tarjan's strongly connected components; each non-trivial one is reported by its shortest closed path. */
function findCycles(
  ids: readonly string[],
  edges: ReadonlyMap<string, readonly string[]>,
): Map<string, string[]> {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const cycles = new Map<string, string[]>();

  const visit = (id: string): void => {
    index.set(id, index.size);
    low.set(id, index.size - 1);
    stack.push(id);
    onStack.add(id);
    for (const next of edges.get(id) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(id, Math.min(low.get(id) ?? 0, low.get(next) ?? 0));
      } else if (onStack.has(next)) {
        low.set(id, Math.min(low.get(id) ?? 0, index.get(next) ?? 0));
      }
    }
    if (low.get(id) !== index.get(id)) return;
    const component = new Set<string>();
    for (let member = stack.pop(); member !== undefined; member = stack.pop()) {
      onStack.delete(member);
      component.add(member);
      if (member === id) break;
    }
    const selfLoop = (edges.get(id) ?? []).includes(id);
    if (component.size > 1 || selfLoop) {
      const path = shortestCycle(component, edges);
      for (const member of component) cycles.set(member, path);
    }
  };

  for (const id of ids) if (!index.has(id)) visit(id);
  return cycles;
}

function shortestCycle(
  component: ReadonlySet<string>,
  edges: ReadonlyMap<string, readonly string[]>,
): string[] {
  const start = [...component].sort(compareStrings)[0] ?? '';
  const parent = new Map<string, string>();
  const queue = [start];
  for (let head = 0; head < queue.length; head++) {
    const id = queue[head] ?? start;
    for (const next of edges.get(id) ?? []) {
      if (next === start) {
        const path = [start];
        for (let at: string | undefined = id; at !== undefined && at !== start; at = parent.get(at)) {
          path.splice(1, 0, at);
        }
        path.push(start);
        return path;
      }
      if (component.has(next) && !parent.has(next)) {
        parent.set(next, id);
        queue.push(next);
      }
    }
  }
  return [start, start];
}

function insertSorted(list: string[], value: string): void {
  let at = list.findIndex((entry) => compareStrings(entry, value) > 0);
  if (at === -1) at = list.length;
  list.splice(at, 0, value);
}

/** Code-unit order, the same on every machine and locale. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
