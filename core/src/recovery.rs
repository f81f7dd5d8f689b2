//! Recovery words: the person's identity key written as 24 words, for the day every
//! device is lost or seized.
//!
//! The words are the BIP-39 encoding (English list, 2048 words) of the identity key's
//! 32-byte secret: 256 bits and an 8-bit checksum, 11 bits per word. Whoever holds them
//! holds the identity: they are shown once, on request, to be written on paper and
//! kept away from the phone. A new device made from them (with a new relay invitation)
//! has the same identity key, so members see the same person, with the same safety
//! number; a space manager of each space re-admits it ([`crate::engine::Engine::readmit`]),
//! which removes the lost devices from the space in the same step.

use zeroize::Zeroizing;

use crate::error::{CoreError, InvalidInput, RecoveryWordsError, Result};
use crate::identity::IdentityKey;

/// How many words.
pub const RECOVERY_WORD_COUNT: usize = 24;

/// The recovery words of an identity. Zeroized when dropped; never printed by `Debug`.
pub struct RecoveryWords(Zeroizing<String>);

impl std::fmt::Debug for RecoveryWords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecoveryWords(..)")
    }
}

impl RecoveryWords {
    /// The words of `identity`.
    ///
    /// # Errors
    /// Never in practice: 32 bytes is a valid BIP-39 entropy length.
    pub fn of(identity: &IdentityKey) -> Result<Self> {
        let secret = identity.to_secret();
        let mnemonic = bip39::Mnemonic::from_entropy(secret.as_slice())
            .map_err(|_| CoreError::Invalid(InvalidInput::NoRecoveryWords))?;
        let mut words = Zeroizing::new(String::with_capacity(RECOVERY_WORD_COUNT * 9));
        for (i, word) in mnemonic.words().enumerate() {
            if i > 0 {
                words.push(' ');
            }
            words.push_str(word);
        }
        Ok(Self(words))
    }

    /// Reads words as a person types them: any case, any spacing, one word per line or
    /// all on one. The error never repeats the words.
    ///
    /// # Errors
    /// [`CoreError::RecoveryWords`] for a wrong count, a word not on the list, or a checksum
    /// that does not match (a word mistyped or swapped).
    pub fn parse(typed: &str) -> Result<Self> {
        let mut normalized = Zeroizing::new(String::with_capacity(typed.len()));
        let mut count = 0;
        for word in typed.split_whitespace() {
            if count > 0 {
                normalized.push(' ');
            }
            normalized.extend(word.chars().flat_map(char::to_lowercase));
            count += 1;
        }
        if count != RECOVERY_WORD_COUNT {
            return Err(CoreError::RecoveryWords(RecoveryWordsError::WrongCount {
                expected: RECOVERY_WORD_COUNT,
                given: count,
            }));
        }
        let words = Self(normalized);
        words.mnemonic()?;
        Ok(words)
    }

    fn mnemonic(&self) -> Result<bip39::Mnemonic> {
        bip39::Mnemonic::parse_in_normalized(bip39::Language::English, &self.0).map_err(|error| {
            CoreError::RecoveryWords(match error {
                bip39::Error::UnknownWord(index) => RecoveryWordsError::UnknownWord { position: index + 1 },
                bip39::Error::InvalidChecksum => RecoveryWordsError::Mismatch,
                _ => RecoveryWordsError::NotASet,
            })
        })
    }

    /// The identity key they encode.
    ///
    /// # Errors
    /// As [`RecoveryWords::parse`] (never for words made by [`RecoveryWords::of`]).
    pub fn identity_key(&self) -> Result<IdentityKey> {
        let mnemonic = self.mnemonic()?;
        let (entropy, length) = mnemonic.to_entropy_array();
        let entropy = Zeroizing::new(entropy);
        let secret: Zeroizing<[u8; 32]> = Zeroizing::new(
            entropy
                .get(..length)
                .and_then(|bytes| bytes.try_into().ok())
                .ok_or(CoreError::RecoveryWords(RecoveryWordsError::NotASet))?,
        );
        Ok(IdentityKey::from_secret(&secret))
    }

    /// The words, separated by single spaces.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn words_give_back_the_identity_key_they_were_made_from() {
        let identity = IdentityKey::generate();
        let words = RecoveryWords::of(&identity).unwrap();
        assert_eq!(words.as_str().split(' ').count(), RECOVERY_WORD_COUNT);
        assert_eq!(format!("{words:?}"), "RecoveryWords(..)");
        let typed = words.as_str().to_uppercase().replace(' ', "\n  ");
        let back = RecoveryWords::parse(&typed).unwrap().identity_key().unwrap();
        assert_eq!(back.public(), identity.public());
    }

    #[test]
    fn a_mistyped_swapped_or_missing_word_is_refused_without_repeating_the_words() {
        let words = RecoveryWords::of(&IdentityKey::generate()).unwrap();
        let list: Vec<&str> = words.as_str().split(' ').collect();

        let short = list[..23].join(" ");
        let mut swapped = list.clone();
        swapped.swap(3, 4);
        let mut unknown = list.clone();
        unknown[7] = "huisclos";
        // One word replaced by another word of the list: the checksum (8 bits) catches
        // all but 1 in 256 such mistakes, so the replacement is the first candidate that
        // is caught; the test is about what the refusal says, and drawing a word the
        // checksum misses made it fail 1 run in 256.
        let candidates = ["abandon", "ability", "able", "about", "above", "absent", "absorb", "abstract"];
        let replaced = candidates
            .iter()
            .filter(|candidate| **candidate != list[0])
            .map(|candidate| {
                let mut replaced = list.clone();
                replaced[0] = candidate;
                replaced
            })
            .find(|replaced| RecoveryWords::parse(&replaced.join(" ")).is_err())
            .expect("one of seven replacements breaks the checksum (all seven pass 1 time in 2^56)");
        // The refusal is typed and carries positions and counts only: no word of the
        // input can be in it (the check does not depend on which words were drawn).
        for (typed, expect) in [
            (short, RecoveryWordsError::WrongCount { expected: 24, given: 23 }),
            (unknown.join(" "), RecoveryWordsError::UnknownWord { position: 8 }),
            (replaced.join(" "), RecoveryWordsError::Mismatch),
        ] {
            match RecoveryWords::parse(&typed) {
                Err(CoreError::RecoveryWords(error)) => assert_eq!(error, expect),
                other => panic!("{expect:?} expected, got {other:?}"),
            }
        }
        // A swap of two different words almost always breaks the checksum (1 in 256 not).
        if list[3] != list[4] {
            let outcome = RecoveryWords::parse(&swapped.join(" "));
            if let Ok(swapped) = outcome {
                let original = RecoveryWords::parse(words.as_str()).unwrap().identity_key().unwrap();
                assert_ne!(swapped.identity_key().unwrap().public(), original.public());
            }
        }
    }
}
