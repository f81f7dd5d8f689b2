import { describe, expect, it } from "vitest";
import { Heights, windowOf } from "./virtual";

const keys = (n: number) => Array.from({ length: n }, (_, i) => `k${i}`);

describe("a virtualized list's window", () => {
  it("renders only the rows in view, and the spacers make up the rest exactly", () => {
    const heights = new Heights(100);
    const rows = keys(10_000);
    const offsets = heights.offsets(rows);
    const view = windowOf(offsets, 250_000, 800, 300);
    // 800 px in view and 300 px either side, at 100 px a row: about 14 rows.
    expect(view.end - view.start).toBeLessThanOrEqual(16);
    expect(view.start).toBe(2497);
    expect(view.before + rows.slice(view.start, view.end).length * 100 + view.after).toBe(1_000_000);
  });

  it("starts at the top and ends at the bottom", () => {
    const heights = new Heights(50);
    const rows = keys(100);
    const offsets = heights.offsets(rows);
    expect(windowOf(offsets, 0, 500, 0)).toEqual({ start: 0, end: 11, before: 0, after: 4450 });
    const last = windowOf(offsets, 4800, 500, 0);
    expect(last.end).toBe(100);
    expect(last.after).toBe(0);
    expect(windowOf(heights.offsets([]), 0, 500, 0)).toEqual({ start: 0, end: 0, before: 0, after: 0 });
  });

  it("uses measured heights once known, and forgets rows that left the list", () => {
    const heights = new Heights(100);
    expect(heights.set("k1", 300)).toBe(200);
    expect(heights.set("k1", 250)).toBe(-50);
    const offsets = heights.offsets(keys(3));
    expect(Array.from(offsets)).toEqual([0, 100, 350, 450]);
    expect(windowOf(offsets, 120, 10, 0)).toMatchObject({ start: 1, end: 2, before: 100, after: 100 });
    heights.keepOnly(new Set(["k0"]));
    expect(heights.of("k1")).toBe(100);
  });

  it("always renders at least one row past a list scrolled beyond its end", () => {
    const offsets = new Heights(100).offsets(keys(5));
    const view = windowOf(offsets, 10_000, 500, 0);
    expect(view).toEqual({ start: 4, end: 5, before: 400, after: 0 });
  });
});
