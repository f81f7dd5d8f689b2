import { describe, expect, it } from "vitest";
import { applyEdits, caretSegments, diffOne, moveOffset, type TextEdit } from "./noteText";

describe("diffOne", () => {
  it("turns one text into the other, in UTF-16 units, without cutting a character", () => {
    const pairs: [string, string][] = [
      ["", "abc"],
      ["abc", ""],
      ["Hearing at 9", "Hearing at 10"],
      ["a😀c", "a😁c"],
      ["😀", "😀😀"],
      ["room 4", "room 4, floor 2"],
      ["same", "same"],
    ];
    for (const [before, after] of pairs) {
      const edit = diffOne(before, after);
      expect(applyEdits(before, edit ? [edit] : [])).toBe(after);
      if (edit) {
        // No lone surrogate at either end of what is inserted.
        expect(() => encodeURIComponent(edit.insert)).not.toThrow();
      }
    }
  });

  it("holds for random texts", () => {
    const letters = ["a", "b", "é", "😀", " ", "\n"];
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    const word = () => Array.from({ length: next() % 8 }, () => letters[next() % letters.length]).join("");
    for (let i = 0; i < 500; i += 1) {
      const before = word() + word();
      const after = before.slice(0, next() % (before.length + 1)) + word();
      const edit = diffOne(before, after);
      expect(applyEdits(before, edit ? [edit] : [])).toBe(after);
    }
  });
});

describe("moveOffset", () => {
  const edits = (...list: TextEdit[]) => list;
  it("keeps a caret by its character through others' edits", () => {
    const text = "Hearing at 9";
    const caret = text.indexOf("9");
    const changes = edits({ at: 0, delete: 0, insert: "› " }, { at: 9, delete: 2, insert: "" });
    const after = applyEdits(text, changes);
    expect(after[moveOffset(caret, changes)]).toBe("9");
  });

  it("does not move for text typed at or after it, and lands at a deletion's place", () => {
    expect(moveOffset(3, [{ at: 3, delete: 0, insert: "xyz" }])).toBe(3);
    expect(moveOffset(3, [{ at: 5, delete: 1, insert: "" }])).toBe(3);
    expect(moveOffset(4, [{ at: 2, delete: 5, insert: "" }])).toBe(2);
  });
});

describe("caretSegments", () => {
  it("cuts the text at each caret, in order, and keeps every character", () => {
    const text = "Hearing at 9";
    const segments = caretSegments(text, [
      { name: "Bob", at: 11 },
      { name: "Amira", at: 0 },
      { name: "Carol", at: 99 },
    ]);
    expect(segments.map((s) => s.text).join("")).toBe(text);
    expect(segments.filter((s) => s.caret).map((s) => s.caret?.name)).toEqual(["Amira", "Bob", "Carol"]);
    expect(segments[0].text).toBe("");
  });
});
