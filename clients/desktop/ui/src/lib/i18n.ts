// The shared Fluent messages (clients/l10n/locales), bundled at build time: the same
// files the CLI and the phone apps use. Each argument is isolated (FSI … PDI) so that
// a name keeps its own direction inside a sentence of the other direction.

import { FluentBundle, FluentResource, type FluentVariable } from "@fluent/bundle";

const sources = import.meta.glob("../../../../l10n/locales/*/*.ftl", {
  query: "?raw",
  import: "default",
  eager: true,
}) as Record<string, string>;

export type Tag = "en" | "fr" | "de" | "ar" | "pt";

/** The languages, English first, each named in itself. */
export const LANGUAGES: { tag: Tag; name: string }[] = [
  { tag: "en", name: "English" },
  { tag: "fr", name: "Français" },
  { tag: "de", name: "Deutsch" },
  { tag: "ar", name: "العربية" },
  { tag: "pt", name: "Português" },
];

export function isRightToLeft(tag: Tag): boolean {
  return tag === "ar";
}

/** The language a browser locale asks for (`pt-BR`, `ar-EG`), English otherwise. */
export function negotiate(locale: string | undefined): Tag {
  const primary = (locale ?? "").split(/[-_.@]/)[0].toLowerCase();
  return LANGUAGES.find((l) => l.tag === primary)?.tag ?? "en";
}

/** The Fluent source files of one language, by file name. */
export function filesOf(tag: Tag): Record<string, string> {
  const files: Record<string, string> = {};
  for (const [path, source] of Object.entries(sources)) {
    const match = path.match(/locales\/([a-z]+)\/([a-z]+\.ftl)$/);
    if (match && match[1] === tag) files[match[2]] = source;
  }
  return files;
}

function bundle(tag: Tag): FluentBundle {
  const bundle = new FluentBundle(tag, { useIsolating: true });
  for (const source of Object.values(filesOf(tag))) {
    const errors = bundle.addResource(new FluentResource(source));
    if (errors.length > 0) console.error(`${tag}: ${errors.map(String).join("; ")}`);
  }
  return bundle;
}

/** Renders messages in one language, falling back to English, then to the id. */
export class Translator {
  readonly tag: Tag;
  private readonly bundles: FluentBundle[];

  constructor(tag: Tag) {
    this.tag = tag;
    this.bundles = tag === "en" ? [bundle("en")] : [bundle(tag), bundle("en")];
  }

  t(id: string, args?: Record<string, FluentVariable>): string {
    for (const bundle of this.bundles) {
      const message = bundle.getMessage(id);
      if (message?.value) return bundle.formatPattern(message.value, args);
    }
    return id;
  }

  /** A number in this language's way (its digits and grouping). */
  number(value: number): string {
    return new Intl.NumberFormat(this.tag).format(value);
  }

  /** A size in bytes, in the unit that suits it, in this language's way. */
  bytes(value: number): string {
    const units = ["byte", "kilobyte", "megabyte", "gigabyte"] as const;
    let unit = 0;
    while (value >= 1000 && unit < units.length - 1) {
      value /= 1000;
      unit += 1;
    }
    return new Intl.NumberFormat(this.tag, {
      style: "unit",
      unit: units[unit],
      unitDisplay: "short",
      maximumFractionDigits: unit === 0 ? 0 : 1,
    }).format(value);
  }

  /** How long ago `seconds` was, relative to `now` (both Unix seconds), in this
   * language's words ("5 minutes ago", "il y a 5 minutes", "منذ 5 دقائق"). */
  ago(seconds: number, now: number = Date.now() / 1000): string {
    const elapsed = Math.max(0, now - seconds);
    const format = new Intl.RelativeTimeFormat(this.tag, { numeric: "auto" });
    const steps: [number, Intl.RelativeTimeFormatUnit][] = [
      [60, "second"],
      [3600, "minute"],
      [86400, "hour"],
      [7 * 86400, "day"],
      [30 * 86400, "week"],
      [365 * 86400, "month"],
    ];
    let size = 1;
    for (const [limit, unit] of steps) {
      if (elapsed < limit) return format.format(-Math.floor(elapsed / size), unit);
      size = limit;
    }
    return format.format(-Math.floor(elapsed / (365 * 86400)), "year");
  }

  /** A date and time in this language's way. */
  dateTime(seconds: number): string {
    return new Intl.DateTimeFormat(this.tag, { dateStyle: "medium", timeStyle: "short" }).format(
      new Date(seconds * 1000),
    );
  }
}
