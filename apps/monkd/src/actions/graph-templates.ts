import { MonkError, type JsonObject } from '@monk/model';
import type { Graph } from '@monk/graph';
import { templateRecordSchema, type TemplateRecord, type TemplateSource } from '@monk/monkscript';

/** The templates stored in the graph, as MonkScript reads them. Throws `GRAPH_CORRUPT` for a malformed one. */
export function createGraphTemplateSource(graph: Graph): TemplateSource {
  const parse = (value: JsonObject, path: string): TemplateRecord => {
    const parsed = templateRecordSchema.safeParse(value);
    if (!parsed.success) {
      throw new MonkError('GRAPH_CORRUPT', `stored template ${path} is malformed: ${parsed.error.message}`);
    }
    return parsed.data;
  };
  return {
    get(path) {
      const value = graph.getTemplate(path);
      return value === undefined ? undefined : parse(value, path);
    },
    list() {
      return graph.listTemplates().map(({ path, value }) => parse(value, path));
    },
  };
}
