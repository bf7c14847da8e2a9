import { z } from 'zod';

/** `global`, or the `ns/name` path of the runnable a secret belongs to. */
const scopePattern = /^(global|[A-Za-z0-9_][A-Za-z0-9_.-]*(\/[A-Za-z0-9_][A-Za-z0-9_.-]*)+)$/;
const base64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * One stored secret: its value encrypted by monkd (the graph never sees plaintext). `ciphertext` and
 * `nonce` are base64; the scope is `global` or the runnable (`ns/name`) that alone may read it.
 */
export const secretRecordSchema = z.object({
  name: z
    .string()
    .min(1)
    .max(253)
    .regex(
      /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/,
      'letters, digits, "_", "." and "-", not starting with "." or "-"',
    ),
  scope: z.string().regex(scopePattern, '"global" or a runnable path such as ns/name'),
  ciphertext: z.string().min(1).regex(base64, 'base64'),
  nonce: z.string().min(1).regex(base64, 'base64'),
  updatedAt: z.string().min(1),
});
export type SecretRecord = z.infer<typeof secretRecordSchema>;

/** The key of a secret in the graph's `secrets` map. Names and scopes cannot contain `#`. */
export function secretKey(scope: string, name: string): string {
  return `${scope}#${name}`;
}
