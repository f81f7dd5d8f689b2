//! The translations are complete and consistent, and every id the code names exists.

use super::*;
use fluent_syntax::ast;
use std::collections::{BTreeMap, BTreeSet};

/// One language's messages: id → the variables its pattern uses, and its selects'
/// variant keys.
#[derive(Default)]
struct Parsed {
    variables: BTreeMap<String, BTreeSet<String>>,
    selects: BTreeMap<String, Vec<Vec<String>>>,
    /// The file each id is in.
    files: BTreeMap<String, &'static str>,
}

fn walk_pattern(pattern: &ast::Pattern<&str>, vars: &mut BTreeSet<String>, selects: &mut Vec<Vec<String>>) {
    for element in &pattern.elements {
        if let ast::PatternElement::Placeable { expression } = element {
            walk_expression(expression, vars, selects);
        }
    }
}

fn walk_inline(inline: &ast::InlineExpression<&str>, vars: &mut BTreeSet<String>, selects: &mut Vec<Vec<String>>) {
    match inline {
        ast::InlineExpression::VariableReference { id } => {
            vars.insert(id.name.to_owned());
        }
        ast::InlineExpression::Placeable { expression } => walk_expression(expression, vars, selects),
        ast::InlineExpression::FunctionReference { arguments, .. } => {
            for argument in &arguments.positional {
                walk_inline(argument, vars, selects);
            }
        }
        _ => {}
    }
}

fn walk_expression(expression: &ast::Expression<&str>, vars: &mut BTreeSet<String>, selects: &mut Vec<Vec<String>>) {
    match expression {
        ast::Expression::Inline(inline) => walk_inline(inline, vars, selects),
        ast::Expression::Select { selector, variants } => {
            walk_inline(selector, vars, selects);
            selects.push(
                variants
                    .iter()
                    .map(|v| match &v.key {
                        ast::VariantKey::Identifier { name } => (*name).to_owned(),
                        ast::VariantKey::NumberLiteral { value } => (*value).to_owned(),
                    })
                    .collect(),
            );
            for variant in variants {
                walk_pattern(&variant.value, vars, selects);
            }
        }
    }
}

fn parse(language: Language) -> Parsed {
    let mut parsed = Parsed::default();
    for (file, source) in sources(language) {
        let resource = match fluent_syntax::parser::parse(*source) {
            Ok(resource) => resource,
            Err((_, errors)) => panic!("{}/{file} does not parse: {errors:?}", language.tag()),
        };
        for entry in &resource.body {
            match entry {
                ast::Entry::Message(message) => {
                    let id = message.id.name.to_owned();
                    let (mut vars, mut selects) = (BTreeSet::new(), Vec::new());
                    let value = message.value.as_ref().unwrap_or_else(|| panic!("{id} has no value"));
                    walk_pattern(value, &mut vars, &mut selects);
                    assert!(parsed.files.insert(id.clone(), file).is_none(), "{id} twice in {}", language.tag());
                    parsed.variables.insert(id.clone(), vars);
                    parsed.selects.insert(id, selects);
                }
                ast::Entry::Junk { content } => panic!("{}/{file} holds junk: {content}", language.tag()),
                _ => {}
            }
        }
    }
    parsed
}

#[test]
fn every_language_has_every_english_message_in_the_same_file_and_no_other() {
    let english = parse(Language::English);
    assert!(english.variables.len() > 300, "{} English messages", english.variables.len());
    for language in Language::ALL {
        let parsed = parse(language);
        let missing: Vec<_> = english.files.keys().filter(|id| !parsed.files.contains_key(*id)).collect();
        let extra: Vec<_> = parsed.files.keys().filter(|id| !english.files.contains_key(*id)).collect();
        assert!(missing.is_empty(), "{} lacks {missing:?}", language.tag());
        assert!(extra.is_empty(), "{} has messages English does not: {extra:?}", language.tag());
        for (id, file) in &parsed.files {
            assert_eq!(Some(file), english.files.get(id), "{id} in {}", language.tag());
        }
    }
}

#[test]
fn a_translation_uses_only_the_variables_of_its_english_source() {
    let english = parse(Language::English);
    for language in Language::ALL {
        for (id, vars) in parse(language).variables {
            let source = &english.variables[&id];
            let unknown: Vec<_> = vars.difference(source).collect();
            assert!(unknown.is_empty(), "{}: {id} uses {unknown:?}, not in English", language.tag());
        }
    }
}

/// The CLDR plural categories a language's whole numbers fall in (the counts the
/// messages take are whole numbers): found by asking its rules for 0 to 1,000 and a
/// million.
fn categories(language: Language) -> BTreeSet<String> {
    use intl_pluralrules::{PluralCategory, PluralRuleType, PluralRules};
    let rules = PluralRules::create(language.identifier(), PluralRuleType::CARDINAL)
        .unwrap_or_else(|e| panic!("{e} for {}", language.tag()));
    (0u64..=1_000)
        .chain([1_000_000])
        .map(|n| match rules.select(n) {
            Ok(PluralCategory::ZERO) => "zero",
            Ok(PluralCategory::ONE) => "one",
            Ok(PluralCategory::TWO) => "two",
            Ok(PluralCategory::FEW) => "few",
            Ok(PluralCategory::MANY) => "many",
            Ok(PluralCategory::OTHER) | Err(_) => "other",
        })
        .map(str::to_owned)
        .collect()
}

#[test]
fn plurals_follow_each_languages_cldr_categories() {
    const PLURAL_KEYS: [&str; 6] = ["zero", "one", "two", "few", "many", "other"];
    let english = parse(Language::English);
    for language in Language::ALL {
        let needed = categories(language);
        let parsed = parse(language);
        for (id, selects) in &parsed.selects {
            for keys in selects {
                let plural = keys.iter().any(|k| PLURAL_KEYS.contains(&k.as_str()) && k != "other");
                if !plural {
                    // A select on a flag or a kind keeps English's keys.
                    let english_keys: BTreeSet<_> = english.selects[id].iter().flatten().collect();
                    for key in keys {
                        assert!(english_keys.contains(key), "{}: {id} has key {key} English has not", language.tag());
                    }
                    continue;
                }
                let used: BTreeSet<String> = keys.iter().cloned().collect();
                let foreign: Vec<_> = used.iter().filter(|k| !needed.contains(*k)).collect();
                assert!(foreign.is_empty(), "{}: {id} has categories {foreign:?} the language lacks", language.tag());
                // "many" in French, Portuguese and others only marks large compact
                // numbers ("1 million de"): the default covers it.
                let lacking: Vec<_> = needed
                    .iter()
                    .filter(|c| {
                        let covered_by_default = *c == "many" && language != Language::Arabic;
                        !used.contains(*c) && !covered_by_default
                    })
                    .collect();
                assert!(lacking.is_empty(), "{}: {id} lacks plural forms {lacking:?}", language.tag());
            }
        }
    }
}

#[test]
fn every_message_renders_in_every_language_without_errors() {
    let english = parse(Language::English);
    for language in Language::ALL {
        let bundle = bundle(language, true);
        for (id, vars) in &english.variables {
            let mut args = FluentArgs::new();
            for var in vars {
                args.set(var.as_str(), FluentValue::from("x"));
            }
            let pattern = bundle.get_message(id).and_then(|m| m.value()).unwrap_or_else(|| panic!("{id}"));
            let mut errors = Vec::new();
            let text = bundle.format_pattern(pattern, Some(&args), &mut errors);
            assert!(errors.is_empty(), "{}: {id}: {errors:?}", language.tag());
            assert!(!text.trim().is_empty(), "{}: {id} is empty", language.tag());
        }
    }
}

/// Message ids written in Rust sources: string literals that start with a prefix the
/// files use.
fn ids_named_in(source: &str) -> BTreeSet<String> {
    const PREFIXES: [&str; 17] = [
        "desktop-",
        "error-",
        "missing-",
        "refusal-",
        "unverified-",
        "invalid-",
        "recovery-",
        "relay-",
        "fault-",
        "rejection-",
        "warning-",
        "delay-",
        "role-",
        "policy-",
        "history-",
        "event-",
        "cli-",
    ];
    // Every `"id"`: a quote, id characters, a quote (escaped quotes elsewhere do not
    // shift this, as they would a split on quotes).
    let mut ids = BTreeSet::new();
    for (start, _) in source.match_indices('"') {
        let rest = &source[start + 1..];
        let end =
            rest.find(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')).unwrap_or(rest.len());
        let candidate = &rest[..end];
        if rest[end..].starts_with('"') && candidate.len() > 4 && PREFIXES.iter().any(|p| candidate.starts_with(p)) {
            ids.insert(candidate.to_owned());
        }
    }
    ids
}

#[test]
fn every_id_named_in_the_code_exists() {
    let english = parse(Language::English);
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut named = BTreeSet::new();
    for folder in [
        "src",
        "../cli/src",
        "../desktop/src",
        "../desktop/ui/src",
        "../desktop/ui/src/lib",
        "../desktop/ui/src/screens",
        "../desktop/ui/src/components",
    ] {
        for entry in std::fs::read_dir(dir.join(folder)).unwrap_or_else(|e| panic!("{folder}: {e}")) {
            let path = entry.map(|e| e.path()).unwrap_or_default();
            let code = path.extension().is_some_and(|e| e == "rs" || e == "ts" || e == "svelte");
            if code && !path.ends_with("tests.rs") && !path.to_string_lossy().ends_with(".test.ts") {
                named.extend(ids_named_in(&std::fs::read_to_string(&path).unwrap_or_default()));
            }
        }
    }
    assert!(named.len() > 250, "only {} ids found in the code", named.len());
    let unknown: Vec<_> = named.iter().filter(|id| !english.variables.contains_key(*id)).collect();
    assert!(unknown.is_empty(), "named in the code, missing from the files: {unknown:?}");
    // And the other way: a message nothing names is dead text to translate.
    let unused: Vec<_> = english.variables.keys().filter(|id| !named.contains(*id)).collect();
    assert!(unused.is_empty(), "in the files, named nowhere: {unused:?}");
}

#[test]
fn arabic_counts_take_their_six_forms() {
    let arabic = Localizer::with_isolation(Language::Arabic, false);
    let forms: BTreeSet<String> = [0u64, 1, 2, 3, 11, 100]
        .into_iter()
        .map(|n| arabic.render(&Message::new("cli-sync-done").with("spaces", n).with("outbox", 0u64)))
        // The words, not the number, must differ.
        .map(|text| text.replace(|c: char| c.is_ascii_digit(), "#"))
        .collect();
    assert_eq!(forms.len(), 6, "{forms:#?}");
    let french = Localizer::new(Language::French);
    let one = french.render(&Message::new("cli-word-devices").with("count", 1u64));
    let two = french.render(&Message::new("cli-word-devices").with("count", 2u64));
    assert_ne!(one.replace('1', ""), two.replace('2', ""), "{one} / {two}");
}

#[test]
fn names_are_isolated_so_they_keep_their_direction() {
    let arabic = Localizer::new(Language::Arabic);
    let text = arabic.render(&Message::new("event-joined").with("space", "Case 207"));
    assert!(text.contains("\u{2068}Case 207\u{2069}"), "{text:?}");
    let plain = Localizer::with_isolation(Language::English, false);
    assert_eq!(plain.render(&Message::new("event-joined").with("space", "Case 207")), "You are in \"Case 207\".");
}

#[test]
fn a_relay_key_this_profile_does_not_pin_is_explained_not_coded() {
    use huisclos_core::error::{CoreError, TransportFailure};
    let error = CoreError::Transport(TransportFailure::RelayKeyNotPinned);
    for language in Language::ALL {
        let text = Localizer::new(language).describe(&error);
        assert!(!text.contains("relay-key-not-pinned") && !text.contains("error-"), "{}: {text}", language.tag());
    }
    let english = Localizer::with_isolation(Language::English, false).describe(&error);
    assert!(english.contains("ask them for a new invitation"), "{english}");
}

#[test]
fn a_nested_reason_is_rendered_in_the_same_language() {
    use huisclos_core::error::{CoreError, ManagerAction, Refusal};
    let error = CoreError::Forbidden(Refusal::NotSpaceManager(ManagerAction::Remove));
    for language in Language::ALL {
        let localizer = Localizer::new(language);
        let outer = localizer.text("error-forbidden");
        let text = localizer.describe(&error);
        let reason = localizer.text("refusal-manager-remove");
        assert!(text.contains(&reason), "{}: {text}", language.tag());
        assert!(!text.contains("error-") && !text.contains("refusal-"), "{text}");
        assert_ne!(text, outer);
    }
    let english = Localizer::with_isolation(Language::English, false);
    assert_eq!(english.describe(&error), "not allowed: only a space manager may remove people");
}

#[test]
fn an_unknown_id_falls_back_to_english_then_to_itself() {
    let german = Localizer::new(Language::German);
    assert_eq!(german.text("no-such-message"), "no-such-message");
    assert!(german.has("error-closed"));
    assert_ne!(german.text("error-closed"), Localizer::new(Language::English).text("error-closed"));
}

#[test]
fn the_cli_says_nothing_that_is_not_in_the_messages() {
    // String literals the CLI keeps in English on purpose: its `--json` output, which
    // scripts read, and a policy as typed on the command line.
    const NOT_PROSE: [&str; 3] = ["on request", "history kept", "no history"];
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../cli/src");
    let mut prose = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.map(|e| e.path()).unwrap_or_default();
        if path.extension().is_none_or(|e| e != "rs") || path.ends_with("text.rs") {
            continue;
        }
        let source = std::fs::read_to_string(&path).unwrap_or_default();
        for (number, line) in source.lines().enumerate() {
            let code = line.trim_start();
            if code.starts_with("//") {
                continue;
            }
            // Every second piece between quotes is inside a literal (escaped quotes
            // aside, which these sources only use around placeholders).
            for literal in code.split('"').skip(1).step_by(2) {
                let words: Vec<&str> = literal.split(' ').collect();
                let sentence = words.windows(2).any(|pair| {
                    pair.iter().all(|w| w.len() > 1 && w.chars().all(|c| c.is_alphabetic() && c.is_lowercase()))
                });
                if sentence && !NOT_PROSE.contains(&literal) {
                    prose.push(format!("{}:{}: {literal}", path.display(), number + 1));
                }
            }
        }
    }
    assert!(prose.is_empty(), "words shown to people belong in the .ftl files:\n{}", prose.join("\n"));
}

#[test]
fn the_desktop_screens_show_no_text_that_is_not_in_the_messages() {
    let ui = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../desktop/ui/src");
    let mut prose = Vec::new();
    let mut screens = 0;
    let entries = ["screens", "components"].into_iter().flat_map(|folder| {
        let dir = ui.join(folder);
        std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
    });
    for entry in entries {
        let path = entry.map(|e| e.path()).unwrap_or_default();
        if path.extension().is_none_or(|e| e != "svelte") {
            continue;
        }
        screens += 1;
        let source = std::fs::read_to_string(&path).unwrap_or_default();
        // The markup only, with every `{…}` expression taken out: what is left
        // between a tag's end and the next tag is text shown as it is written.
        let markup = source.split("</script>").last().unwrap_or_default();
        let mut depth = 0usize;
        let bare: String = markup
            .chars()
            .filter(|c| {
                match c {
                    '{' => depth += 1,
                    '}' => depth = depth.saturating_sub(1),
                    _ => return depth == 0,
                }
                false
            })
            .collect();
        for piece in bare.split('>').skip(1) {
            let text = piece.split('<').next().unwrap_or_default().trim();
            if text.chars().any(char::is_alphabetic) && text != "Huis Clos" {
                prose.push(format!("{}: {text}", path.display()));
            }
        }
    }
    assert!(screens >= 5, "only {screens} screens found");
    assert!(prose.is_empty(), "text shown on the desktop belongs in the .ftl files:\n{}", prose.join("\n"));
}
