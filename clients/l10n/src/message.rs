//! A message to render: an id of the Fluent files and its arguments.

use std::borrow::Cow;

/// One argument of a [`Message`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Arg {
    /// Text shown as it is: a name, an id, a path.
    Text(String),
    /// A number: rendered by the language's rules, and selects plural forms.
    Number(u64),
    /// A nested message (a reason inside an error), rendered in the same language.
    Message(Message),
}

impl From<&str> for Arg {
    fn from(text: &str) -> Self {
        Arg::Text(text.to_owned())
    }
}
impl From<String> for Arg {
    fn from(text: String) -> Self {
        Arg::Text(text)
    }
}
impl From<&String> for Arg {
    fn from(text: &String) -> Self {
        Arg::Text(text.clone())
    }
}
impl From<u64> for Arg {
    fn from(number: u64) -> Self {
        Arg::Number(number)
    }
}
impl From<usize> for Arg {
    fn from(number: usize) -> Self {
        Arg::Number(u64::try_from(number).unwrap_or(u64::MAX))
    }
}
impl From<u32> for Arg {
    fn from(number: u32) -> Self {
        Arg::Number(u64::from(number))
    }
}
impl From<bool> for Arg {
    /// A flag selects a variant by `true` or `false`.
    fn from(flag: bool) -> Self {
        Arg::Text(if flag { "true" } else { "false" }.to_owned())
    }
}
impl From<Message> for Arg {
    fn from(message: Message) -> Self {
        Arg::Message(message)
    }
}

/// A message of the Fluent files with its arguments: what the core's typed errors and
/// events become, and what a client renders in the person's language. Ids and names
/// are usually the code's own constants; an app across the FFI passes its own.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    id: Cow<'static, str>,
    args: Vec<(Cow<'static, str>, Arg)>,
}

impl Message {
    /// The message `id`, without arguments yet.
    pub fn new(id: impl Into<Cow<'static, str>>) -> Self {
        Self { id: id.into(), args: Vec::new() }
    }

    /// With the argument `name`.
    #[must_use]
    pub fn with(mut self, name: impl Into<Cow<'static, str>>, value: impl Into<Arg>) -> Self {
        self.args.push((name.into(), value.into()));
        self
    }

    /// Its id in the Fluent files.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Its arguments, by name.
    pub fn args(&self) -> impl Iterator<Item = (&str, &Arg)> {
        self.args.iter().map(|(name, arg)| (name.as_ref(), arg))
    }
}
