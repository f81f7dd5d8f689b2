// How much a desktop notification may say: the person's choice (Settings), kept in
// local storage and told to the app's side at each start. Nothing but "something new"
// until they choose otherwise: a notification can be read on a locked screen.

import { api } from "./api";

export type NotificationMode = "off" | "without_content" | "with_content";
export const NOTIFICATION_MODES: NotificationMode[] = ["off", "without_content", "with_content"];
const KEY = "notifications";

export function notificationMode(): NotificationMode {
  const saved = globalThis.localStorage?.getItem(KEY);
  return NOTIFICATION_MODES.find((mode) => mode === saved) ?? "without_content";
}

export async function setNotificationMode(mode: NotificationMode): Promise<void> {
  globalThis.localStorage?.setItem(KEY, mode);
  await api.setNotifications(mode);
}
