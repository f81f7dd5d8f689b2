import { describe, expect, it } from "vitest";
import type { Diff } from "./lists";
import { observeWith } from "./observe";

type Handler = (subscription: number, diffs: Diff<string>[]) => void;

function source() {
  const handlers: Handler[] = [];
  return {
    listen: async (handler: Handler) => {
      handlers.push(handler);
      return () => handlers.splice(handlers.indexOf(handler), 1);
    },
    emit: (subscription: number, diffs: Diff<string>[]) => handlers.forEach((h) => h(subscription, diffs)),
    get listening() {
      return handlers.length;
    },
  };
}

describe("an observed list", () => {
  it("keeps the diffs that arrive before its number is known", async () => {
    const events = source();
    let seen: string[] = [];
    const closed: number[] = [];
    const observed = await observeWith<string>(
      events.listen,
      async () => {
        // The core queues the Reset before the command returns.
        events.emit(7, [{ Reset: { values: ["a", "b"] } }]);
        events.emit(6, [{ Reset: { values: ["other list"] } }]);
        return 7;
      },
      (id) => closed.push(id),
      (list) => (seen = list),
    );
    expect(seen).toEqual(["a", "b"]);
    events.emit(7, [{ Insert: { index: 0, value: "new" } }]);
    events.emit(8, [{ Remove: { index: 0 } }]);
    expect(seen).toEqual(["new", "a", "b"]);
    observed.stop();
    expect(closed).toEqual([7]);
    expect(events.listening).toBe(0);
    events.emit(7, [{ Remove: { index: 0 } }]);
    expect(seen).toEqual(["new", "a", "b"]);
  });

  it("stops listening when the list cannot be opened", async () => {
    const events = source();
    await expect(
      observeWith<string>(events.listen, async () => Promise.reject(new Error("closed")), () => {}, () => {}),
    ).rejects.toThrow("closed");
    expect(events.listening).toBe(0);
  });
});
