import { describe, expect, it } from "vitest";
import { twoPlaces } from "./words";

describe("twoPlaces", () => {
  it("gives two different places in range, in order, whatever the draw", () => {
    for (const a of [0, 0.2, 0.5, 0.99999]) {
      for (const b of [0, 0.3, 0.7, 0.99999]) {
        const draws = [a, b];
        const [first, second] = twoPlaces(24, () => draws.shift() ?? 0);
        expect(first).toBeGreaterThanOrEqual(1);
        expect(second).toBeLessThanOrEqual(24);
        expect(first).toBeLessThan(second);
      }
    }
  });

  it("reaches every place over many draws", () => {
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i += 1) for (const place of twoPlaces(24)) seen.add(place);
    expect(seen.size).toBe(24);
  });
});
