// A note's text as an editor holds it, in UTF-16 code units (as JavaScript strings
// count, and as the core's note offsets do): what the person typed turned into an edit
// for the core, and the core's edits (others' typing, merged) applied here while the
// caret stays where the person left it.

/** One edit: delete `delete` units at `at`, then insert `insert` there. */
export interface TextEdit {
  at: number;
  delete: number;
  insert: string;
}

const isHigh = (unit: number) => unit >= 0xd800 && unit <= 0xdbff;
const isLow = (unit: number) => unit >= 0xdc00 && unit <= 0xdfff;

/**
 * The one edit that turns `before` into `after` (what a keystroke, a paste or a cut
 * did): the text between their common start and common end. Never cuts a character
 * in two (a surrogate pair stays whole). `null` if they are the same.
 */
export function diffOne(before: string, after: string): TextEdit | null {
  if (before === after) return null;
  const shorter = Math.min(before.length, after.length);
  let start = 0;
  while (start < shorter && before.charCodeAt(start) === after.charCodeAt(start)) start += 1;
  if (start > 0 && isHigh(before.charCodeAt(start - 1))) start -= 1;
  let end = 0;
  while (
    end < shorter - start &&
    before.charCodeAt(before.length - 1 - end) === after.charCodeAt(after.length - 1 - end)
  ) {
    end += 1;
  }
  if (end > 0 && isLow(before.charCodeAt(before.length - end))) end -= 1;
  return { at: start, delete: before.length - start - end, insert: after.slice(start, after.length - end) };
}

/** `edits` applied in order, each at its offset in the text the previous one left. */
export function applyEdits(text: string, edits: readonly TextEdit[]): string {
  let out = text;
  for (const edit of edits) {
    const at = Math.min(edit.at, out.length);
    const end = Math.min(at + edit.delete, out.length);
    out = out.slice(0, at) + edit.insert + out.slice(end);
  }
  return out;
}

/**
 * Where `offset` (a caret) is after `edits`: moved by what was inserted or deleted
 * before it; a caret inside deleted text goes to where it was. Text inserted exactly
 * at the caret goes after it (another person typing where this one stands does not
 * push this caret).
 */
export function moveOffset(offset: number, edits: readonly TextEdit[]): number {
  let moved = offset;
  for (const edit of edits) {
    if (edit.at < moved) {
      const deleted = Math.min(edit.delete, moved - edit.at);
      moved = moved - deleted + (edit.at + deleted <= moved ? edit.insert.length : 0);
    }
  }
  return moved;
}

/** One place of the text, and who has a caret there. */
export interface Segment {
  text: string;
  caret?: { name: string; hue: number };
}

/**
 * The text cut at others' carets, in order, for drawing them over the text: each
 * segment ends where a caret stands. Carets past the end stand at the end.
 */
export function caretSegments(text: string, carets: readonly { name: string; at: number }[]): Segment[] {
  const sorted = [...carets].map((c) => ({ ...c, at: Math.min(Math.max(c.at, 0), text.length) }));
  sorted.sort((a, b) => a.at - b.at);
  const segments: Segment[] = [];
  let from = 0;
  for (const caret of sorted) {
    segments.push({ text: text.slice(from, caret.at), caret: { name: caret.name, hue: hueOf(caret.name) } });
    from = caret.at;
  }
  segments.push({ text: text.slice(from) });
  return segments;
}

/** A colour for a name, the same on every device. */
export function hueOf(name: string): number {
  let hash = 0;
  for (let i = 0; i < name.length; i += 1) hash = (hash * 31 + name.charCodeAt(i)) >>> 0;
  return hash % 360;
}
