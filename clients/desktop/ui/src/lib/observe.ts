// Observing a list of the core from a screen: the list's diffs come as `list-diff`
// events tagged with the number `open` returns. The first of them (the `Reset`) may
// arrive before that number does, so events are held until it is known.

import { api, onListDiff } from "./api";
import { applyDiffs, type Diff } from "./lists";

type Listen<T> = (handler: (subscription: number, diffs: Diff<T>[]) => void) => Promise<() => void>;

/** An observed list: stop it when the screen goes. */
export interface Observed {
  subscription: number;
  stop: () => void;
}

/** The most events held while the list's number is not yet known. */
const MAX_EARLY = 1000;

/** Observes a list with the given event source (tests pass their own). */
export async function observeWith<T>(
  listen: Listen<T>,
  open: () => Promise<number>,
  close: (subscription: number) => void,
  onList: (list: T[]) => void,
): Promise<Observed> {
  let list: T[] = [];
  let id: number | null = null;
  const early: { subscription: number; diffs: Diff<T>[] }[] = [];
  const unlisten = await listen((subscription, diffs) => {
    if (id === null) {
      if (early.length < MAX_EARLY) early.push({ subscription, diffs });
    } else if (subscription === id) {
      list = applyDiffs(list, diffs);
      onList(list);
    }
  });
  let opened: number;
  try {
    opened = await open();
  } catch (e) {
    unlisten();
    throw e;
  }
  id = opened;
  for (const held of early.splice(0)) {
    if (held.subscription === opened) list = applyDiffs(list, held.diffs);
  }
  onList(list);
  return {
    subscription: opened,
    stop: () => {
      unlisten();
      close(opened);
    },
  };
}

/** Observes a list of the core through the app's commands. */
export function observe<T>(open: () => Promise<number>, onList: (list: T[]) => void): Promise<Observed> {
  return observeWith<T>(onListDiff, open, (id) => void api.closeList(id).catch(() => {}), onList);
}
