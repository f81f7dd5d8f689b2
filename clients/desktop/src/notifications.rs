//! Desktop notifications through the OS (on Linux, the freedesktop notification
//! service on the session bus). The core decides what deserves one (a post in a space
//! that is not muted, a reply or a reaction to this person); this module decides what
//! it may say. By default it says nothing but that something happened: a notification
//! is shown on a locked screen and kept by the OS, where anyone holding the computer
//! can read it, so naming the space, the author or the text is the person's choice.

use huisclos_ffi::NotificationKind;
use huisclos_l10n::{Language, Localizer, Message};

/// How much a notification may say (Settings).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum NotificationMode {
    /// None is shown.
    Off,
    /// Only that something is new: no space, no name, no text.
    #[default]
    WithoutContent,
    /// The space's name, who, and the start of the text.
    WithContent,
}

/// The most characters of an item's text a notification carries.
const MAX_EXCERPT_CHARS: usize = 140;

/// What is known of the item a notification is about.
pub(crate) struct About<'a> {
    pub kind: NotificationKind,
    pub space_name: Option<&'a str>,
    pub from: &'a str,
    pub text: Option<&'a str>,
}

/// A notification's title and body, in the person's language; `None` when the mode
/// shows none.
pub(crate) fn compose(mode: NotificationMode, language: Language, about: &About<'_>) -> Option<(String, String)> {
    let text = Localizer::new(language);
    match mode {
        NotificationMode::Off => None,
        NotificationMode::WithoutContent => Some(("Huis Clos".to_owned(), text.text("desktop-notify-without-content"))),
        NotificationMode::WithContent => {
            let title = about.space_name.map_or_else(|| "Huis Clos".to_owned(), str::to_owned);
            let excerpt = about.text.map(excerpt).unwrap_or_default();
            let id = match about.kind {
                NotificationKind::Post => "desktop-notify-post",
                NotificationKind::Reply => "desktop-notify-reply",
                NotificationKind::Reaction => "desktop-notify-reaction",
            };
            let body = text.render(&Message::new(id).with("name", about.from.to_owned()).with("text", excerpt));
            Some((title, body))
        }
    }
}

/// The start of a text, on one line, cut at a character boundary.
fn excerpt(text: &str) -> String {
    let line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut chars = line.chars();
    let mut cut: String = chars.by_ref().take(MAX_EXCERPT_CHARS).collect();
    if chars.next().is_some() {
        cut.push('…');
    }
    cut
}

/// Shows a notification, waiting on the session bus (call it off the app's main
/// thread). A computer without a notification service shows nothing, and says so only
/// in the app's log, which never holds the text.
pub(crate) fn show_now(title: &str, body: &str) {
    let shown = notify_rust::Notification::new().appname("Huis Clos").summary(title).body(body).show();
    if let Err(error) = shown {
        eprintln!("huisclos-desktop: no notification shown: {error}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn about(text: &str) -> About<'_> {
        About { kind: NotificationKind::Post, space_name: Some("Case 207"), from: "Bob", text: Some(text) }
    }

    #[test]
    fn without_content_says_neither_space_nor_name_nor_text() {
        let secret = "The witness moved to the old mill";
        for language in Language::ALL {
            let (title, body) = compose(NotificationMode::WithoutContent, language, &about(secret)).unwrap_or_default();
            for part in [&title, &body] {
                assert!(!part.contains("Case 207") && !part.contains("Bob") && !part.contains("witness"), "{part}");
            }
            assert!(!body.is_empty());
        }
        assert_eq!(compose(NotificationMode::Off, Language::English, &about(secret)), None);
    }

    #[test]
    fn with_content_names_the_space_and_the_author_and_cuts_the_text() {
        let long = format!("{}\nsecond line", "word ".repeat(60));
        let (title, body) =
            compose(NotificationMode::WithContent, Language::English, &about(&long)).unwrap_or_default();
        assert_eq!(title, "Case 207");
        assert!(body.contains("Bob") && body.contains("word word"), "{body}");
        // The text is isolated (FSI…PDI) like a name, so the cut shows just before the PDI.
        assert!(body.trim_end_matches('\u{2069}').ends_with('…') && !body.contains('\n'), "{body}");
        assert!(body.chars().count() < MAX_EXCERPT_CHARS + 40, "{body}");
    }
}
