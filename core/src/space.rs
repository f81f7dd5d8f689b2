//! A space's rules — name, description, policy, history mode and roles — and the
//! permission checks every member's device applies.
//!
//! The rules live in the MLS group context as a private extension
//! ([`SPACE_RULES_EXTENSION_TYPE`]), so MLS itself makes every member agree on them:
//! they change only by a commit, and the commit's transcript binds them. Each receiving
//! device checks every commit against the rules of the epoch it closes
//! ([`check_commit`]) before merging it, and refuses what the committer's role does not
//! allow, whatever the relay accepted.

use huisclos_protocol::codec::{BoundedVec, Reader, Wire, put_varint};

use crate::error::{CoreError, FixedRule, InvalidInput, Limit, ManagerAction, Refusal, Result};
use crate::identity::IdentityPublicKey;
use huisclos_protocol::ids::GroupId;

/// The group-context extension type holding [`SpaceRules`] (from MLS's private-use
/// range, 0xF000–0xFFFF).
pub const SPACE_RULES_EXTENSION_TYPE: u16 = 0xF0A1;
/// The most bytes in a space's name.
pub const MAX_SPACE_NAME_LEN: usize = 128;
/// The most bytes in a space's description.
pub const MAX_SPACE_DESCRIPTION_LEN: usize = 2048;
/// The most people with an explicit role in one space.
pub const MAX_ROLE_ENTRIES: usize = 4096;

huisclos_protocol::wire_tag_enum!(
    /// Who may join a space.
    pub enum Policy(what = "space policy") {
        /// Any member of the network may join; any member may invite.
        Open = 1,
        /// People ask to join and a space manager approves.
        OnRequest = 2,
        /// Invitation by a space manager only.
        Confidential = 3,
    }
);

huisclos_protocol::wire_tag_enum!(
    /// Whether content stays readable by people who join later.
    pub enum HistoryMode(what = "history mode") {
        /// Content is sealed under the space's history key and kept at the relay, so
        /// later members read it.
        Keep = 1,
        /// Content lives only in MLS messages; later members see only what comes after
        /// they join, and the relay deletes the messages once its retention period
        /// (14 days by default) has passed.
        None = 2,
    }
);

huisclos_protocol::wire_tag_enum!(
    /// What a member may do. Each role may do everything the roles before it may.
    pub enum Role(what = "role") {
        /// Reads.
        Reader = 1,
        /// Posts, comments and reacts; edits and deletes their own content.
        Contributor = 2,
        /// Also edits and deletes anyone's content.
        ContentManager = 3,
        /// Also invites, removes, changes roles, renames and describes the space.
        SpaceManager = 4,
    }
);

impl Role {
    fn rank(self) -> u8 {
        self as u8
    }

    /// Whether this role may post, comment and react.
    pub fn may_contribute(self) -> bool {
        self.rank() >= Role::Contributor.rank()
    }

    /// Whether this role may edit and delete other people's content.
    pub fn may_manage_content(self) -> bool {
        self.rank() >= Role::ContentManager.rank()
    }

    /// Whether this role may change membership and the space's rules.
    pub fn may_manage_space(self) -> bool {
        self == Role::SpaceManager
    }

    /// The role's name as shown to people.
    pub fn name(self) -> &'static str {
        match self {
            Role::Reader => "reader",
            Role::Contributor => "contributor",
            Role::ContentManager => "content manager",
            Role::SpaceManager => "space manager",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = CoreError;
    fn from_str(text: &str) -> Result<Self> {
        match text {
            "reader" => Ok(Role::Reader),
            "contributor" => Ok(Role::Contributor),
            "content-manager" | "content manager" => Ok(Role::ContentManager),
            "space-manager" | "space manager" | "manager" => Ok(Role::SpaceManager),
            _ => Err(CoreError::Invalid(InvalidInput::UnknownRole)),
        }
    }
}

macro_rules! bounded_text {
    ($(#[$meta:meta])* $name:ident, $max:expr, $field:ident = $what:literal, allow_empty = $empty:expr) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, Debug)]
        pub struct $name(String);

        impl $name {
            /// Checks and wraps the text.
            ///
            /// # Errors
            /// [`CoreError::Invalid`] when too long, empty where not allowed, or
            /// holding control characters other than newlines.
            pub fn new(text: impl Into<String>) -> Result<Self> {
                let text = text.into();
                if text.len() > $max
                    || (!$empty && text.trim().is_empty())
                    || text.chars().any(|c| c.is_control() && c != '\n')
                {
                    return Err(CoreError::Invalid(crate::error::InvalidInput::Text {
                        field: crate::error::Field::$field,
                        max: $max,
                        may_be_empty: $empty,
                    }));
                }
                Ok(Self(text))
            }

            /// The text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl Wire for $name {
            fn encode(&self, out: &mut Vec<u8>) {
                put_varint(out, self.0.len() as u64);
                out.extend_from_slice(self.0.as_bytes());
            }
            fn decode(reader: &mut Reader<'_>) -> std::result::Result<Self, huisclos_protocol::Error> {
                let len = reader.take_len($max, $what)?;
                let text = std::str::from_utf8(reader.take(len, $what)?)
                    .map_err(|_| huisclos_protocol::Error::Invalid { what: $what })?;
                Self::new(text).map_err(|_| huisclos_protocol::Error::Invalid { what: $what })
            }
        }

        #[cfg(feature = "proptest")]
        impl proptest::arbitrary::Arbitrary for $name {
            type Parameters = ();
            type Strategy = proptest::strategy::BoxedStrategy<Self>;
            fn arbitrary_with((): ()) -> Self::Strategy {
                use proptest::strategy::Strategy;
                "[a-z\u{600}-\u{6ff}]{1,12}".prop_map(Self).boxed()
            }
        }
    };
}
pub(crate) use bounded_text;

bounded_text!(
    /// A space's name.
    SpaceName, MAX_SPACE_NAME_LEN, SpaceName = "space name", allow_empty = false
);
bounded_text!(
    /// A space's description.
    SpaceDescription, MAX_SPACE_DESCRIPTION_LEN, SpaceDescription = "space description", allow_empty = true
);

huisclos_protocol::wire_struct!(
    /// One person's role.
    pub struct RoleEntry {
        /// The person.
        pub identity: IdentityPublicKey,
        /// The role.
        pub role: Role,
    }
);

huisclos_protocol::wire_struct!(
    /// Everything members agree on about a space, held in the group context.
    pub struct SpaceRules {
        /// The name.
        pub name: SpaceName,
        /// The description.
        pub description: SpaceDescription,
        /// Who may join.
        pub policy: Policy,
        /// Whether later members read earlier content. Fixed at creation.
        pub history: HistoryMode,
        /// The role of people who have no entry (people added without one).
        pub default_role: Role,
        /// Explicit roles, sorted by identity, one per person.
        pub roles: BoundedVec<RoleEntry, MAX_ROLE_ENTRIES>,
        /// The stalled space this one continues, when a space manager recreated it.
        /// Fixed at creation.
        pub replaces: Option<GroupId>,
        /// Whether a new device of a member joins only when a space manager adds it
        /// (for confidential spaces whose members want to see, and approve, every
        /// device that reads them). Otherwise a person adds their own new devices.
        pub devices_need_approval: bool,
    }
);

huisclos_protocol::wire_struct!(
    /// The rules as release 0.1 wrote them (no device approval), read from the spaces
    /// it created (read-only since).
    struct SpaceRulesV1 {
        name: SpaceName,
        description: SpaceDescription,
        policy: Policy,
        history: HistoryMode,
        default_role: Role,
        roles: BoundedVec<RoleEntry, MAX_ROLE_ENTRIES>,
        replaces: Option<GroupId>,
    }
);

impl SpaceRules {
    /// The rules of a new space whose creator is its first space manager.
    pub fn new(
        name: SpaceName,
        description: SpaceDescription,
        policy: Policy,
        history: HistoryMode,
        creator: IdentityPublicKey,
    ) -> Self {
        let roles = BoundedVec::new(vec![RoleEntry { identity: creator, role: Role::SpaceManager }])
            .unwrap_or_else(|_| BoundedVec::empty());
        Self {
            name,
            description,
            policy,
            history,
            default_role: Role::Contributor,
            roles,
            replaces: None,
            devices_need_approval: false,
        }
    }

    /// The role of `identity`.
    pub fn role_of(&self, identity: &IdentityPublicKey) -> Role {
        self.roles.as_slice().iter().find(|e| &e.identity == identity).map_or(self.default_role, |e| e.role)
    }

    /// These rules with `identity`'s role set (entries stay sorted and unique).
    ///
    /// # Errors
    /// [`CoreError::Invalid`] when the space already has [`MAX_ROLE_ENTRIES`] entries.
    pub fn with_role(&self, identity: IdentityPublicKey, role: Role) -> Result<Self> {
        let mut entries: Vec<RoleEntry> =
            self.roles.as_slice().iter().filter(|e| e.identity != identity).cloned().collect();
        entries.push(RoleEntry { identity, role });
        entries.sort_by_key(|e| e.identity);
        let mut next = self.clone();
        next.roles = BoundedVec::new(entries).map_err(|_| {
            CoreError::Invalid(InvalidInput::TooMany { limit: Limit::ExplicitRoles, max: MAX_ROLE_ENTRIES as u64 })
        })?;
        Ok(next)
    }

    /// These rules with `previous`'s entry (if any) moved to `next`: a person whose
    /// identity key was replaced keeps their role.
    pub fn renamed(&self, previous: &IdentityPublicKey, next: &IdentityPublicKey) -> Self {
        match self.roles.as_slice().iter().find(|e| &e.identity == previous) {
            Some(entry) if !self.roles.iter().any(|e| &e.identity == next) => {
                self.without_role(previous).with_role(*next, entry.role).unwrap_or_else(|_| self.clone())
            }
            Some(_) => self.without_role(previous),
            None => self.clone(),
        }
    }

    /// These rules without `identity`'s entry.
    pub fn without_role(&self, identity: &IdentityPublicKey) -> Self {
        let entries: Vec<RoleEntry> =
            self.roles.as_slice().iter().filter(|e| &e.identity != identity).cloned().collect();
        let mut next = self.clone();
        next.roles = BoundedVec::new(entries).unwrap_or_else(|_| BoundedVec::empty());
        next
    }

    /// Decodes rules from the extension's bytes and checks that role entries are sorted
    /// and unique.
    ///
    /// # Errors
    /// [`CoreError::Decode`] or [`CoreError::Invalid`].
    pub fn from_extension_bytes(bytes: &[u8]) -> Result<Self> {
        let rules = match Self::from_wire(bytes) {
            Ok(rules) => rules,
            Err(error) => match SpaceRulesV1::from_wire(bytes) {
                Ok(old) => Self {
                    name: old.name,
                    description: old.description,
                    policy: old.policy,
                    history: old.history,
                    default_role: old.default_role,
                    roles: old.roles,
                    replaces: old.replaces,
                    devices_need_approval: false,
                },
                Err(_) => return Err(error.into()),
            },
        };
        if rules.roles.as_slice().windows(2).any(|w| w[0].identity >= w[1].identity) {
            return Err(CoreError::Invalid(InvalidInput::RulesMalformed));
        }
        Ok(rules)
    }
}

/// One proposal of a commit, reduced to what the rules judge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeRequest {
    /// A device of `identity` is added.
    Add {
        /// The added device's person.
        identity: IdentityPublicKey,
    },
    /// A device of `identity` is removed; `proposer` made the proposal.
    Remove {
        /// The removed device's person.
        identity: IdentityPublicKey,
        /// Who proposed it (the committer, or the removed member leaving).
        proposer: IdentityPublicKey,
    },
    /// The rules change to the enclosed ones.
    Rules(Box<SpaceRules>),
}

/// Whether `committer` may make a commit with these changes under the current `rules`.
/// `members` lists who is in the group before the commit.
///
/// # Errors
/// [`CoreError::Forbidden`] naming the first change the committer may not make.
pub fn check_commit(
    rules: &SpaceRules,
    committer: &IdentityPublicKey,
    changes: &[ChangeRequest],
    members: &[IdentityPublicKey],
) -> Result<()> {
    let role = rules.role_of(committer);
    let may_add = role.may_manage_space() || (rules.policy == Policy::Open && role.may_contribute());
    for change in changes {
        match change {
            ChangeRequest::Add { identity } => {
                // A person may add their own new device (unless the space wants a
                // space manager to approve every device); anyone else needs the right.
                let own_device = identity == committer && members.contains(identity);
                if own_device && rules.devices_need_approval && !role.may_manage_space() {
                    return Err(CoreError::Forbidden(Refusal::DeviceApprovalRequired));
                }
                // Another member's device is added by a space manager only.
                if identity != committer && members.contains(identity) && !role.may_manage_space() {
                    return Err(CoreError::Forbidden(Refusal::NotSpaceManager(ManagerAction::AddOthersDevice)));
                }
                if !own_device && !may_add {
                    return Err(CoreError::Forbidden(Refusal::NotSpaceManager(ManagerAction::AddPeople)));
                }
            }
            ChangeRequest::Remove { identity, proposer } => {
                // Anyone may leave, and remove their own devices; removing others is a
                // space manager's job.
                let leaving = identity == proposer;
                if !leaving && identity != committer && !role.may_manage_space() {
                    return Err(CoreError::Forbidden(Refusal::NotSpaceManager(ManagerAction::Remove)));
                }
            }
            ChangeRequest::Rules(next) => {
                if next.history != rules.history {
                    return Err(CoreError::Forbidden(Refusal::FixedAtCreation(FixedRule::HistoryMode)));
                }
                if next.replaces != rules.replaces {
                    return Err(CoreError::Forbidden(Refusal::FixedAtCreation(FixedRule::Continues)));
                }
                if !role.may_manage_space() {
                    return Err(CoreError::Forbidden(Refusal::NotSpaceManager(ManagerAction::ChangeRules)));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(n: u8) -> IdentityPublicKey {
        IdentityPublicKey::from_bytes([n; 32])
    }

    fn rules(policy: Policy) -> SpaceRules {
        SpaceRules::new(
            SpaceName::new("Case 114").unwrap(),
            SpaceDescription::new("").unwrap(),
            policy,
            HistoryMode::Keep,
            person(1),
        )
        .with_role(person(2), Role::Contributor)
        .unwrap()
        .with_role(person(3), Role::Reader)
        .unwrap()
    }

    #[test]
    fn rules_round_trip_and_refuse_unsorted_roles() {
        let rules = rules(Policy::Confidential);
        assert_eq!(SpaceRules::from_extension_bytes(&rules.to_wire()).unwrap(), rules);
        let mut bad = rules.clone();
        let mut entries = bad.roles.clone().into_vec();
        entries.reverse();
        bad.roles = BoundedVec::new(entries).unwrap();
        assert!(SpaceRules::from_extension_bytes(&bad.to_wire()).is_err());
    }

    #[test]
    fn only_managers_remove_add_and_change_rules_in_a_confidential_space() {
        let rules = rules(Policy::Confidential);
        let members = [person(1), person(2), person(3)];
        let remove_3 = ChangeRequest::Remove { identity: person(3), proposer: person(2) };
        assert!(matches!(
            check_commit(&rules, &person(2), std::slice::from_ref(&remove_3), &members),
            Err(CoreError::Forbidden(_))
        ));
        assert!(check_commit(&rules, &person(1), &[remove_3], &members).is_ok());
        let add = ChangeRequest::Add { identity: person(9) };
        assert!(check_commit(&rules, &person(2), std::slice::from_ref(&add), &members).is_err());
        assert!(check_commit(&rules, &person(1), &[add], &members).is_ok());
        let promote = ChangeRequest::Rules(Box::new(rules.with_role(person(2), Role::SpaceManager).unwrap()));
        assert!(check_commit(&rules, &person(2), std::slice::from_ref(&promote), &members).is_err());
        assert!(check_commit(&rules, &person(1), &[promote], &members).is_ok());
    }

    #[test]
    fn anyone_may_leave_or_add_their_own_device_and_open_spaces_let_contributors_invite() {
        let confidential = rules(Policy::Confidential);
        let members = [person(1), person(2), person(3)];
        let leave = ChangeRequest::Remove { identity: person(3), proposer: person(3) };
        assert!(check_commit(&confidential, &person(2), &[leave], &members).is_ok());
        let own_device = ChangeRequest::Add { identity: person(3) };
        assert!(check_commit(&confidential, &person(3), &[own_device], &members).is_ok());
        let open = rules(Policy::Open);
        let add = ChangeRequest::Add { identity: person(9) };
        assert!(check_commit(&open, &person(2), std::slice::from_ref(&add), &members).is_ok());
        assert!(check_commit(&open, &person(3), &[add], &members).is_err(), "readers do not invite");
    }

    #[test]
    fn history_mode_never_changes() {
        let rules = rules(Policy::Confidential);
        let mut next = rules.clone();
        next.history = HistoryMode::None;
        let change = ChangeRequest::Rules(Box::new(next));
        assert!(check_commit(&rules, &person(1), &[change], &[person(1)]).is_err());
    }
}
