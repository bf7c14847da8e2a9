/**
 * The control protocol between monk clients (CLI, SDK users) and monkd. One request per connection:
 * the client writes one JSON line `{ v, method, params }`; the server answers with any number of
 * `{ event }` lines and exactly one final `{ result }` or `{ error }` line. Interactive methods (`exec`)
 * also read `{ stdin }` / `{ stdinEnd }` lines from the client. The same frames travel over a unix socket
 * (newline-delimited) and over a libp2p stream (length-prefixed).
 *
 * In a module of its own (no zod here) so that a client that only sends calls, such as the CLI's fast
 * path, does not build the schemas of protocol.ts.
 */
export const protocolVersion = 1;
