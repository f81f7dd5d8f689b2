import { describe, expect, it } from "vitest";
import { LANGUAGES, Translator, filesOf, negotiate } from "./i18n";

describe("the shared messages in the web view", () => {
  it("bundles every language's files", () => {
    for (const { tag } of LANGUAGES) {
      expect(Object.keys(filesOf(tag)).sort()).toEqual(["cli.ftl", "core.ftl", "desktop.ftl"]);
    }
  });

  it("renders Arabic with its plural forms and isolated names", () => {
    const arabic = new Translator("ar");
    const forms = new Set([0, 1, 2, 3, 11, 100].map((n) => arabic.t("desktop-unread", { count: n }).replace(String(n), "#")));
    expect(forms.size).toBe(6);
    expect(arabic.t("event-joined", { space: "Case 207" })).toContain("\u2068Case 207\u2069");
  });

  it("falls back to English, then to the id", () => {
    const german = new Translator("de");
    expect(german.t("desktop-post-button")).not.toBe(new Translator("en").t("desktop-post-button"));
    expect(german.t("no-such-message")).toBe("no-such-message");
  });

  it("chooses the language a locale asks for", () => {
    expect(negotiate("pt-BR")).toBe("pt");
    expect(negotiate("ar-EG")).toBe("ar");
    expect(negotiate("sw")).toBe("en");
    expect(negotiate(undefined)).toBe("en");
  });
});

describe("how long ago", () => {
  it("says it in the language's own words, in the unit that fits", () => {
    const now = 1_800_000_000;
    const en = new Translator("en");
    expect(en.ago(now - 30, now)).toBe("30 seconds ago");
    expect(en.ago(now - 5 * 60, now)).toBe("5 minutes ago");
    expect(en.ago(now - 3 * 3600, now)).toBe("3 hours ago");
    expect(en.ago(now - 86400, now)).toBe("yesterday");
    expect(en.ago(now + 500, now)).toBe("now");
    expect(new Translator("fr").ago(now - 5 * 60, now)).toBe("il y a 5 minutes");
    expect(new Translator("ar").ago(now - 5 * 60, now)).toMatch(/٥|5/);
  });
});
