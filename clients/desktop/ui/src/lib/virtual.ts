// A virtualized list's arithmetic: which rows are on screen, given each row's height
// (measured once it has been shown, estimated before), and where the rows above and
// below begin. Only those rows are in the DOM, so a feed of 10,000 posts costs what a
// screenful costs. Kept free of the DOM so that it can be tested on its own.

/** The rows to render, and the space that stands in for the others. */
export interface Window {
  /** First row rendered (inclusive). */
  start: number;
  /** Last row rendered (exclusive). */
  end: number;
  /** Height of the rows above `start`. */
  before: number;
  /** Height of the rows from `end` on. */
  after: number;
}

/** Row heights by key, with an estimate for the rows not yet measured. */
export class Heights {
  private measured = new Map<string, number>();

  constructor(private readonly estimate: number) {}

  of(key: string): number {
    return this.measured.get(key) ?? this.estimate;
  }

  /** Records a row's height; returns how much it changed from what was assumed. */
  set(key: string, height: number): number {
    const change = height - this.of(key);
    this.measured.set(key, height);
    return change;
  }

  /** Forgets the rows no longer in the list (so the map never outgrows it). */
  keepOnly(keys: ReadonlySet<string>): void {
    for (const key of this.measured.keys()) if (!keys.has(key)) this.measured.delete(key);
  }

  /** Where each row begins, and where the last ends (`keys.length + 1` entries). */
  offsets(keys: readonly string[]): Float64Array {
    const offsets = new Float64Array(keys.length + 1);
    for (let i = 0; i < keys.length; i += 1) offsets[i + 1] = offsets[i] + this.of(keys[i]);
    return offsets;
  }
}

/** The first row that ends after `y` (binary search over `offsets`). */
export function rowAt(offsets: Float64Array, y: number): number {
  let low = 0;
  let high = offsets.length - 1;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (offsets[middle + 1] > y) high = middle;
    else low = middle + 1;
  }
  return low;
}

/** The rows that meet the part of the list from `top` to `top + height` (in the list's
 * own coordinates), with `overscan` pixels more on each side. */
export function windowOf(offsets: Float64Array, top: number, height: number, overscan: number): Window {
  const rows = offsets.length - 1;
  const total = offsets[rows];
  if (rows === 0) return { start: 0, end: 0, before: 0, after: 0 };
  const start = Math.min(rowAt(offsets, Math.max(0, top - overscan)), rows - 1);
  const bottom = top + height + overscan;
  let end = rowAt(offsets, bottom);
  end = Math.min(rows, Math.max(start + 1, end + 1));
  return { start, end, before: offsets[start], after: total - offsets[end] };
}
