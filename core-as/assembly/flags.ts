// Build flags. `TESTING` is true only in builds compiled with `--use TRELLIS_TESTING=1`
// (asconfig targets `testing` and `debug`); in release every `if (TESTING ...)` branch folds
// away, so planted bugs, probes and invariant checks are not in the release Wasm at all.

export const TESTING: bool = isDefined(TRELLIS_TESTING);

/** A planted bug is on (testing builds only; always false in release). */
// @ts-ignore: decorator
@inline export function planted(bugs: u32, bug: u32): bool {
  return TESTING && (bugs & bug) != 0;
}
