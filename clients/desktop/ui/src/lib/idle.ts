// Locking after a while without use: a seized, unlocked laptop should not stay open.
// The delay is the person's choice (Settings), kept in local storage; the profile's
// keys leave memory when the core locks.

const KEY = "lock-after-minutes";
export const LOCK_CHOICES = [1, 5, 15, 60, 0] as const; // 0: never
const DEFAULT_MINUTES = 15;

/** Minutes without use before the app locks; 0 for never. */
export function lockAfterMinutes(): number {
  const saved = Number(globalThis.localStorage?.getItem(KEY) ?? DEFAULT_MINUTES);
  return Number.isFinite(saved) && saved >= 0 ? saved : DEFAULT_MINUTES;
}

export function setLockAfterMinutes(minutes: number): void {
  globalThis.localStorage?.setItem(KEY, String(minutes));
}

/** Whether `idleMs` of no use is long enough to lock with a delay of `minutes`. */
export function shouldLock(idleMs: number, minutes: number): boolean {
  return minutes > 0 && idleMs >= minutes * 60_000;
}

/** Watches for use of the window and calls `onIdle` once the chosen delay passes
 * without any; returns what stops the watch. */
export function watchIdle(onIdle: () => void, now: () => number = () => performance.now()): () => void {
  let last = now();
  const used = () => (last = now());
  const events = ["pointerdown", "keydown", "wheel", "pointermove"] as const;
  events.forEach((e) => globalThis.addEventListener(e, used, { passive: true }));
  const timer = setInterval(() => {
    if (shouldLock(now() - last, lockAfterMinutes())) {
      stop();
      onIdle();
    }
  }, 1000);
  function stop() {
    clearInterval(timer);
    events.forEach((e) => globalThis.removeEventListener(e, used));
  }
  return stop;
}
