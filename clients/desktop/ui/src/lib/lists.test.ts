import { describe, expect, it } from "vitest";
import { applyDiffs, type Diff } from "./lists";

describe("applyDiffs", () => {
  it("rebuilds the list the core holds from a reset and diffs", () => {
    const diffs: Diff<string>[] = [
      { Reset: { values: ["b", "c"] } },
      { Insert: { index: 0, value: "a" } },
      { Append: { values: ["d", "e"] } },
      { Set: { index: 2, value: "C" } },
      { Remove: { index: 3 } },
    ];
    expect(applyDiffs([], diffs)).toEqual(["a", "b", "C", "e"]);
  });

  it("leaves the given list as it was", () => {
    const list = ["x"];
    applyDiffs(list, [{ Append: { values: ["y"] } }]);
    expect(list).toEqual(["x"]);
  });

  it("refuses a diff that does not fit, rather than show another list", () => {
    expect(() => applyDiffs(["a"], [{ Set: { index: 1, value: "b" } }])).toThrow(RangeError);
    expect(() => applyDiffs([], [{ Remove: { index: 0 } }])).toThrow(RangeError);
    expect(() => applyDiffs([], [{ Insert: { index: 1, value: "a" } }])).toThrow(RangeError);
  });

  it("matches a random sequence of edits applied directly", () => {
    let seed = 7;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    let expected: number[] = [];
    let list: number[] = [];
    for (let step = 0; step < 500; step++) {
      let diff: Diff<number>;
      const kind = random(expected.length === 0 ? 2 : 5);
      if (kind === 0) diff = { Append: { values: [step, step + 1] } };
      else if (kind === 1) diff = { Insert: { index: random(expected.length + 1), value: step } };
      else if (kind === 2) diff = { Set: { index: random(expected.length), value: -step } };
      else if (kind === 3) diff = { Remove: { index: random(expected.length) } };
      else diff = { Reset: { values: expected.filter((v) => v % 2 === 0) } };
      if ("Append" in diff) expected.push(...diff.Append.values);
      else if ("Insert" in diff) expected.splice(diff.Insert.index, 0, diff.Insert.value);
      else if ("Set" in diff) expected[diff.Set.index] = diff.Set.value;
      else if ("Remove" in diff) expected.splice(diff.Remove.index, 1);
      else expected = diff.Reset.values.slice();
      list = applyDiffs(list, [diff]);
      expect(list).toEqual(expected);
    }
  });
});
