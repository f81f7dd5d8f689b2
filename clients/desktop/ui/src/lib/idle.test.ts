import { describe, expect, it } from "vitest";
import { shouldLock } from "./idle";

describe("the idle lock", () => {
  it("locks once the chosen delay has passed without use, and never when told never", () => {
    expect(shouldLock(4 * 60_000, 5)).toBe(false);
    expect(shouldLock(5 * 60_000, 5)).toBe(true);
    expect(shouldLock(3_000, 0.05)).toBe(true);
    expect(shouldLock(24 * 3_600_000, 0)).toBe(false);
  });
});
