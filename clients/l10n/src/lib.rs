//! What Huis Clos says, in English, French, German, Arabic and Portuguese.
//!
//! One set of [Fluent](https://projectfluent.org) files (`locales/<language>/*.ftl`),
//! compiled into the binary, serves every client: the CLI renders them here, the FFI
//! exposes a [`Localizer`] to the phone apps, and the desktop app's web view reads the
//! same files. The core never speaks a language: its errors and events carry typed
//! reasons, and [`describe`] turns each into a [`Message`] (an id and its arguments)
//! that a [`Localizer`] renders. Keeping the mapping here, beside the files, means a
//! test can check that every id the code names exists in every language.
//!
//! Names of people and spaces are arguments, never part of a message: Fluent wraps each
//! in Unicode isolation marks (FSI … PDI), so that a Latin name in an Arabic sentence,
//! or an Arabic name in an English one, keeps its own direction.

pub mod describe;
mod language;
mod message;

pub use describe::Describe;
pub use language::{Direction, Language, UnknownLanguage};
pub use message::{Arg, Message};

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};

/// The Fluent sources of one language, as compiled in.
struct Sources {
    language: Language,
    files: &'static [(&'static str, &'static str)],
}

/// Every language's files, by file name. A new file is added to each language here.
const SOURCES: [Sources; 5] = [
    Sources {
        language: Language::English,
        files: &[
            ("core.ftl", include_str!("../locales/en/core.ftl")),
            ("cli.ftl", include_str!("../locales/en/cli.ftl")),
            ("desktop.ftl", include_str!("../locales/en/desktop.ftl")),
        ],
    },
    Sources {
        language: Language::French,
        files: &[
            ("core.ftl", include_str!("../locales/fr/core.ftl")),
            ("cli.ftl", include_str!("../locales/fr/cli.ftl")),
            ("desktop.ftl", include_str!("../locales/fr/desktop.ftl")),
        ],
    },
    Sources {
        language: Language::German,
        files: &[
            ("core.ftl", include_str!("../locales/de/core.ftl")),
            ("cli.ftl", include_str!("../locales/de/cli.ftl")),
            ("desktop.ftl", include_str!("../locales/de/desktop.ftl")),
        ],
    },
    Sources {
        language: Language::Arabic,
        files: &[
            ("core.ftl", include_str!("../locales/ar/core.ftl")),
            ("cli.ftl", include_str!("../locales/ar/cli.ftl")),
            ("desktop.ftl", include_str!("../locales/ar/desktop.ftl")),
        ],
    },
    Sources {
        language: Language::Portuguese,
        files: &[
            ("core.ftl", include_str!("../locales/pt/core.ftl")),
            ("cli.ftl", include_str!("../locales/pt/cli.ftl")),
            ("desktop.ftl", include_str!("../locales/pt/desktop.ftl")),
        ],
    },
];

/// The Fluent files of `language`, as (file name, source) pairs: for a client that
/// renders in another runtime (the desktop's web view) from the same sources.
pub fn sources(language: Language) -> &'static [(&'static str, &'static str)] {
    SOURCES.iter().find(|s| s.language == language).map_or(&[], |s| s.files)
}

/// Renders messages in one language, falling back to English for a message the
/// language lacks (the tests keep that from happening in a release), and to the
/// message's id if English lacks it too.
pub struct Localizer {
    language: Language,
    bundle: FluentBundle<FluentResource>,
    english: Option<FluentBundle<FluentResource>>,
}

impl std::fmt::Debug for Localizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Localizer").field("language", &self.language).finish_non_exhaustive()
    }
}

fn bundle(language: Language, isolating: bool) -> FluentBundle<FluentResource> {
    let mut bundle = FluentBundle::new_concurrent(vec![language.identifier()]);
    bundle.set_use_isolating(isolating);
    for (_, source) in sources(language) {
        // A file that does not parse whole still adds the messages that do; the tests
        // refuse such a file, so this only matters to a release built without them.
        let resource = FluentResource::try_new((*source).to_owned()).unwrap_or_else(|(partial, _)| partial);
        // Duplicate ids are refused by the tests too; the first one wins here.
        let _ = bundle.add_resource(resource);
    }
    bundle
}

impl Localizer {
    /// A localizer for `language`, isolating every argument (FSI … PDI), which is right
    /// wherever text is shown by a bidi-aware renderer (the web view, Android, iOS).
    pub fn new(language: Language) -> Self {
        Self::with_isolation(language, true)
    }

    /// A localizer that isolates arguments only if `isolating`: a terminal, which
    /// does not lay text out by the bidi algorithm, shows the marks as gaps or boxes.
    pub fn with_isolation(language: Language, isolating: bool) -> Self {
        let english = (language != Language::English).then(|| bundle(Language::English, isolating));
        Self { language, bundle: bundle(language, isolating), english }
    }

    /// The language it renders.
    pub fn language(&self) -> Language {
        self.language
    }

    /// Whether `id` is a message of this language itself (without the fallback).
    pub fn has(&self, id: &str) -> bool {
        self.bundle.has_message(id)
    }

    /// Renders `message`; arguments that are messages themselves are rendered first.
    pub fn render(&self, message: &Message) -> String {
        let mut args = FluentArgs::new();
        for (name, arg) in message.args() {
            let value = match arg {
                Arg::Text(text) => FluentValue::from(text.clone()),
                Arg::Number(number) => FluentValue::from(*number),
                Arg::Message(inner) => FluentValue::from(self.render(inner)),
            };
            args.set(name.to_owned(), value);
        }
        for bundle in std::iter::once(&self.bundle).chain(self.english.as_ref()) {
            if let Some(pattern) = bundle.get_message(message.id()).and_then(|m| m.value()) {
                let mut errors = Vec::new();
                return bundle.format_pattern(pattern, Some(&args), &mut errors).into_owned();
            }
        }
        message.id().to_owned()
    }

    /// Renders the message `id` without arguments.
    pub fn text(&self, id: &str) -> String {
        self.render(&Message::new(id.to_owned()))
    }

    /// What `value` (an error, a reason, an event's warning) says in this language.
    pub fn describe(&self, value: &(impl Describe + ?Sized)) -> String {
        self.render(&value.message())
    }
}

#[cfg(test)]
mod tests;
