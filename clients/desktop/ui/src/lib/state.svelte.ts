// The web view's state: the language, and what the core has said. Screens read it and
// call the commands; they decide nothing the core decides.

import { Translator, isRightToLeft, negotiate, type Tag } from "./i18n";
import { api } from "./api";

function initialLanguage(): Tag {
  const saved = globalThis.localStorage?.getItem("language");
  return negotiate(saved ?? globalThis.navigator?.language);
}

export const ui = $state({
  translator: new Translator(initialLanguage()),
});

/** The message `id` in the current language. */
export function t(id: string, args?: Record<string, string | number>): string {
  return ui.translator.t(id, args);
}

/** Switches the language of the whole window, the core's reasons included, and
 * mirrors the layout for a right-to-left language. */
export async function setLanguage(tag: Tag): Promise<void> {
  ui.translator = new Translator(tag);
  applyDirection(tag);
  globalThis.localStorage?.setItem("language", tag);
  await api.setLanguage(tag);
}

export function applyDirection(tag: Tag): void {
  document.documentElement.lang = tag;
  document.documentElement.dir = isRightToLeft(tag) ? "rtl" : "ltr";
}
