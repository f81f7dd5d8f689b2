// An observed list, kept as the core sends it: a Reset first, then diffs. The web view
// never asks for a whole list again; it applies each diff in order.

export type Diff<T> =
  | { Append: { values: T[] } }
  | { Insert: { index: number; value: T } }
  | { Set: { index: number; value: T } }
  | { Remove: { index: number } }
  | { Reset: { values: T[] } };

/** The list after `diffs`, in order; `list` itself is not changed. A diff that does
 * not fit the list (an index past its end) means the two disagree: that is a bug, so
 * it throws rather than show a list that is not the core's. */
export function applyDiffs<T>(list: readonly T[], diffs: readonly Diff<T>[]): T[] {
  let next = list.slice();
  for (const diff of diffs) {
    if ("Append" in diff) {
      next.push(...diff.Append.values);
    } else if ("Insert" in diff) {
      const { index, value } = diff.Insert;
      if (index > next.length) throw new RangeError(`insert at ${index} past ${next.length}`);
      next.splice(index, 0, value);
    } else if ("Set" in diff) {
      const { index, value } = diff.Set;
      if (index >= next.length) throw new RangeError(`set at ${index} past ${next.length}`);
      next[index] = value;
    } else if ("Remove" in diff) {
      const { index } = diff.Remove;
      if (index >= next.length) throw new RangeError(`remove at ${index} past ${next.length}`);
      next.splice(index, 1);
    } else if ("Reset" in diff) {
      next = diff.Reset.values.slice();
    }
  }
  return next;
}
