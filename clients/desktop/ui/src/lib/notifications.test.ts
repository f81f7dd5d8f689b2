import { afterEach, describe, expect, it } from "vitest";
import { notificationMode } from "./notifications";

function storage(value: string | null) {
  (globalThis as { localStorage?: unknown }).localStorage = { getItem: () => value, setItem: () => {} };
}

describe("the notification setting", () => {
  afterEach(() => delete (globalThis as { localStorage?: unknown }).localStorage);

  it("says nothing but 'something new' until the person chooses otherwise", () => {
    expect(notificationMode()).toBe("without_content");
    storage(null);
    expect(notificationMode()).toBe("without_content");
  });

  it("keeps a choice, and reads anything else as the default rather than as more", () => {
    storage("with_content");
    expect(notificationMode()).toBe("with_content");
    storage("off");
    expect(notificationMode()).toBe("off");
    storage("everything");
    expect(notificationMode()).toBe("without_content");
  });
});
