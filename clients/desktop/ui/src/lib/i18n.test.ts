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
