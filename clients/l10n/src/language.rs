//! The languages Huis Clos speaks, and choosing one from a tag or the environment.

use unic_langid::{LanguageIdentifier, langid};

/// A language with a complete set of messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Language {
    /// English, the source language.
    English,
    /// French.
    French,
    /// German.
    German,
    /// Arabic, written right to left.
    Arabic,
    /// Portuguese.
    Portuguese,
}

/// The direction a language is written in, which sets the whole layout's direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Left to right.
    LeftToRight,
    /// Right to left: the layout is mirrored.
    RightToLeft,
}

/// A language tag that names none of the languages Huis Clos speaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown language {0:?}: use en, fr, de, ar or pt")]
pub struct UnknownLanguage(pub String);

impl Language {
    /// Every language, English first.
    pub const ALL: [Language; 5] =
        [Language::English, Language::French, Language::German, Language::Arabic, Language::Portuguese];

    /// Its BCP 47 tag: `en`, `fr`, `de`, `ar`, `pt`.
    pub fn tag(self) -> &'static str {
        match self {
            Language::English => "en",
            Language::French => "fr",
            Language::German => "de",
            Language::Arabic => "ar",
            Language::Portuguese => "pt",
        }
    }

    /// Its name in itself, as a language menu shows it.
    pub fn native_name(self) -> &'static str {
        match self {
            Language::English => "English",
            Language::French => "Français",
            Language::German => "Deutsch",
            Language::Arabic => "العربية",
            Language::Portuguese => "Português",
        }
    }

    /// The direction it is written in.
    pub fn direction(self) -> Direction {
        match self {
            Language::Arabic => Direction::RightToLeft,
            _ => Direction::LeftToRight,
        }
    }

    pub(crate) fn identifier(self) -> LanguageIdentifier {
        match self {
            Language::English => langid!("en"),
            Language::French => langid!("fr"),
            Language::German => langid!("de"),
            Language::Arabic => langid!("ar"),
            Language::Portuguese => langid!("pt"),
        }
    }

    /// The language a tag asks for: a BCP 47 tag (`pt-BR`), or a POSIX locale
    /// (`ar_EG.UTF-8`, `fr_FR@euro`); only the primary language counts, in any case.
    pub fn from_tag(tag: &str) -> Result<Language, UnknownLanguage> {
        let primary = tag.split(['_', '-', '.', '@']).next().unwrap_or_default().to_ascii_lowercase();
        Language::ALL
            .into_iter()
            .find(|language| language.tag() == primary)
            .ok_or_else(|| UnknownLanguage(tag.to_owned()))
    }

    /// The language of the POSIX environment: the first of `LC_ALL`, `LC_MESSAGES` and
    /// `LANG` that is set decides (as for every other program); English if it names
    /// a language Huis Clos does not speak, or `C`/`POSIX`.
    pub fn from_environment() -> Language {
        Self::from_variables(|name| std::env::var(name).ok())
    }

    /// [`Language::from_environment`] over any lookup of variables.
    pub fn from_variables(lookup: impl Fn(&str) -> Option<String>) -> Language {
        ["LC_ALL", "LC_MESSAGES", "LANG"]
            .into_iter()
            .filter_map(lookup)
            .find(|value| !value.is_empty())
            .and_then(|value| Language::from_tag(&value).ok())
            .unwrap_or(Language::English)
    }
}

impl std::str::FromStr for Language {
    type Err = UnknownLanguage;
    fn from_str(tag: &str) -> Result<Self, Self::Err> {
        Language::from_tag(tag)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_and_posix_locales_name_their_language() {
        assert_eq!(Language::from_tag("pt-BR"), Ok(Language::Portuguese));
        assert_eq!(Language::from_tag("ar_EG.UTF-8"), Ok(Language::Arabic));
        assert_eq!(Language::from_tag("fr_FR@euro"), Ok(Language::French));
        assert_eq!(Language::from_tag("DE"), Ok(Language::German));
        assert_eq!(Language::from_tag("sw"), Err(UnknownLanguage("sw".into())));
        assert_eq!(Language::from_tag(""), Err(UnknownLanguage(String::new())));
    }

    #[test]
    fn the_environment_decides_in_posix_order_and_falls_back_to_english() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| pairs.iter().find(|(n, _)| *n == name).map(|(_, v)| (*v).to_owned())
        };
        assert_eq!(Language::from_variables(env(&[("LANG", "ar_LB.UTF-8")])), Language::Arabic);
        assert_eq!(
            Language::from_variables(env(&[("LANG", "ar_LB.UTF-8"), ("LC_ALL", "de_DE.UTF-8")])),
            Language::German
        );
        assert_eq!(Language::from_variables(env(&[("LC_ALL", ""), ("LANG", "fr_CA")])), Language::French);
        assert_eq!(Language::from_variables(env(&[("LANG", "C.UTF-8")])), Language::English);
        assert_eq!(Language::from_variables(env(&[])), Language::English);
    }

    #[test]
    fn only_arabic_is_right_to_left() {
        for language in Language::ALL {
            assert_eq!(language.direction() == Direction::RightToLeft, language == Language::Arabic);
            assert_eq!(Language::from_tag(language.tag()), Ok(language));
        }
    }
}
