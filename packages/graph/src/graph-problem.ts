import type { JsonValue } from '@monk/model';

/**
 * Something the graph, its store or its sync layer skipped instead of crashing: an invalid record from a
 * peer or from disk, a torn log tail dropped on load, a malformed message. Pass an `onProblem` callback to
 * log them; none of them stops the graph.
 *
 * @example
 * createGraph({ peerId, onProblem: (p) => logger.warn(p.message, p.details) });
 */
export interface GraphProblem {
  readonly kind: 'invalid-record' | 'dropped-tail' | 'rejected-message' | 'listener-failed';
  readonly message: string;
  readonly details?: { readonly [key: string]: JsonValue };
}

/** Receives {@link GraphProblem}s. Must not throw. */
export type GraphProblemListener = (problem: GraphProblem) => void;
