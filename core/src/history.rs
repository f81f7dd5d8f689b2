//! History keys: how a space's content stays readable by people who join later, and
//! who may have written each record.
//!
//! Content records are sealed under the space's *history key* of the current
//! *generation*. A generation starts when the space is created (generation 0, epoch 0)
//! and at every commit that removes anyone; its key is the MLS exporter of the epoch
//! that starts it ([`HISTORY_KEY_EXPORTER_LABEL`], context = group id and generation),
//! so no member chooses or plants it, and a removed member, who never holds that
//! epoch's secrets, cannot compute it. A device that merges a removal derives the new
//! key in the same step, so nothing is ever sealed under the old key after it.
//!
//! Each generation has a *roster*: every device (its MLS signature key, with its
//! person) that was a member at some epoch of the generation, and, once the generation
//! is closed, each person's role when it closed. A record is accepted only from a
//! device on its generation's roster — for the current generation, a device that is a
//! member now — with a role that allows it: the current role for the current
//! generation, the role at its close for an earlier one.
//!
//! A member who joins later receives the earlier generations (keys and rosters) from
//! the device that added it, in a [`HistoryGrant`], and checks them against the
//! [`HistoryLedger`] that every commit writes into the group context: the current
//! generation, the epoch it started, a commitment to its key, and a hash chain over the
//! closed generations (keys and rosters). Every member checks the ledger of every commit
//! against its own state, so an adder cannot hand a newcomer anything the members did
//! not agree on.

use std::collections::BTreeMap;

use huisclos_protocol::codec::{BoundedVec, Wire};
use huisclos_protocol::ids::{Epoch, GroupId};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::content::HistoryKey;
use crate::error::{CoreError, InvalidInput, Limit, Refusal, Result, Unverified};
use crate::identity::IdentityPublicKey;
use crate::space::{Role, SpaceRules};

/// The MLS exporter label of a generation's key.
pub const HISTORY_KEY_EXPORTER_LABEL: &str = "huisclos/1 history-key";
/// The group-context extension type holding the [`HistoryLedger`].
pub const HISTORY_LEDGER_EXTENSION_TYPE: u16 = 0xF0A2;
/// Domain separation of the ledger's hash chain.
pub const HISTORY_LEDGER_LABEL: &[u8] = b"huisclos/1 history-ledger";
/// Domain separation of a key's commitment.
pub const KEY_COMMITMENT_LABEL: &[u8] = b"huisclos/1 history-key-commitment";
/// The most generations a space may have: a removal that would start one more is
/// refused (the space is then recreated).
pub const MAX_HISTORY_GENERATIONS: usize = 4096;
/// The most devices on one generation's roster.
pub const MAX_ROSTER_DEVICES: usize = 8192;
/// The most bytes of generations one grant message carries; a longer history is sent
/// in several.
pub const MAX_GRANT_PART_LEN: usize = 768 * 1024;

huisclos_protocol::wire_struct!(
    /// What every commit writes into the group context about the space's history.
    pub struct HistoryLedger {
        /// The generation current in the epoch the commit starts.
        pub generation: u32,
        /// The epoch that generation started.
        pub start_epoch: Epoch,
        /// The commitment to that generation's key ([`key_commitment`]); absent when
        /// the generation starts with this very epoch (its key is not known before).
        pub key_commitment: Option<[u8; 32]>,
        /// The hash chain over every closed generation ([`fold_closed`]).
        pub closed: [u8; 32],
    }
);

huisclos_protocol::wire_struct!(
    /// A device on a generation's roster.
    pub struct RosterEntry {
        /// Its person.
        pub identity: IdentityPublicKey,
        /// Its MLS signature key (which signs its records).
        pub mls_key: [u8; 32],
        /// Its person's role when the generation closed (for the current generation:
        /// the role now, which receivers do not use).
        pub role: Role,
    }
);

huisclos_protocol::wire_struct!(
    /// One generation, as an adder hands it to a new member.
    pub struct GenerationGrant {
        /// The key, with its generation.
        pub key: HistoryKey,
        /// The epoch it started.
        pub start_epoch: Epoch,
        /// Whether it is closed.
        pub closed: bool,
        /// Its roster, sorted by MLS key.
        pub roster: BoundedVec<RosterEntry, MAX_ROSTER_DEVICES>,
    }
);

huisclos_protocol::wire_struct!(
    /// The history a new member needs, sent by its adder after the commit that adds it
    /// (in several messages when long).
    pub struct HistoryGrant {
        /// The first epoch of the members it is for (the epoch the adding commit
        /// starts): they check it against that epoch's ledger.
        pub for_epoch: Epoch,
        /// Consecutive generations, oldest first.
        pub generations: BoundedVec<GenerationGrant, MAX_HISTORY_GENERATIONS>,
    }
);

/// The commitment to a generation's key written in the ledger.
pub fn key_commitment(group: &GroupId, generation: u32, key: &[u8; 32]) -> [u8; 32] {
    let mut hash = Sha256::new();
    hash.update(KEY_COMMITMENT_LABEL);
    hash.update([0]);
    hash.update(group.as_bytes());
    hash.update(generation.to_be_bytes());
    hash.update(key);
    hash.finalize().into()
}

/// The ledger's chain before any generation closed.
pub fn initial_chain(group: &GroupId) -> [u8; 32] {
    let mut hash = Sha256::new();
    hash.update(HISTORY_LEDGER_LABEL);
    hash.update([0]);
    hash.update(group.as_bytes());
    hash.finalize().into()
}

/// The chain with one more closed generation: its number, start, key commitment and
/// roster (entries sorted by MLS key, each with the role at its close).
pub fn fold_closed(chain: &[u8; 32], group: &GroupId, grant: &GenerationGrant) -> [u8; 32] {
    let mut hash = Sha256::new();
    hash.update(HISTORY_LEDGER_LABEL);
    hash.update([1]);
    hash.update(chain);
    hash.update(grant.key.generation().to_be_bytes());
    hash.update(grant.start_epoch.get().to_be_bytes());
    hash.update(key_commitment(group, grant.key.generation(), &grant.key.expose_for_storage()));
    hash.update(grant.roster.to_wire());
    hash.finalize().into()
}

/// One device on a roster, as stored.
#[derive(Serialize, Deserialize, Clone, Copy, PartialEq, Eq, Debug)]
struct Rostered {
    identity: [u8; 32],
    /// The role at the generation's close; `None` while it is current.
    role: Option<u8>,
}

/// One generation as a device holds it.
#[derive(Serialize, Deserialize, Clone)]
struct Generation {
    number: u32,
    start_epoch: u64,
    key: [u8; 32],
    closed: bool,
    /// By MLS signature key.
    roster: BTreeMap<[u8; 32], Rostered>,
}

impl Drop for Generation {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.key.zeroize();
    }
}

impl Generation {
    fn history_key(&self) -> HistoryKey {
        HistoryKey::from_parts(self.number, self.key)
    }

    fn grant(&self) -> Result<GenerationGrant> {
        let mut roster = Vec::with_capacity(self.roster.len());
        for (mls_key, rostered) in &self.roster {
            let role = match rostered.role {
                Some(tag) => Role::from_wire(&[tag]).map_err(CoreError::Decode)?,
                None => Role::Reader,
            };
            roster.push(RosterEntry {
                identity: IdentityPublicKey::from_bytes(rostered.identity),
                mls_key: *mls_key,
                role,
            });
        }
        Ok(GenerationGrant {
            key: self.history_key(),
            start_epoch: Epoch::new(self.start_epoch).map_err(CoreError::Decode)?,
            closed: self.closed,
            roster: BoundedVec::new(roster)?,
        })
    }

    fn from_grant(grant: &GenerationGrant) -> Self {
        let roster = grant
            .roster
            .iter()
            .map(|e| {
                let role = grant.closed.then_some(e.role as u8);
                (e.mls_key, Rostered { identity: *e.identity.as_bytes(), role })
            })
            .collect();
        Self {
            number: grant.key.generation(),
            start_epoch: grant.start_epoch.get(),
            key: grant.key.expose_for_storage(),
            closed: grant.closed,
            roster,
        }
    }
}

/// A member of the group at some epoch: its person and MLS signature key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seat {
    /// The person.
    pub identity: IdentityPublicKey,
    /// The device's MLS signature key.
    pub mls_key: [u8; 32],
}

/// What a device that joined later waits for: the ledger of its first epoch, and the
/// grant messages received so far.
#[derive(Serialize, Deserialize, Clone, Default)]
struct Awaiting {
    epoch: u64,
    /// The ledger of the first epoch (wire bytes).
    ledger: Vec<u8>,
    /// Generations received so far, by number (wire bytes of [`GenerationGrant`]).
    parts: BTreeMap<u32, Vec<u8>>,
}

impl Drop for Awaiting {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        for part in self.parts.values_mut() {
            part.zeroize();
        }
    }
}

/// Where a record's author stands, for the content rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// A member now, writing in the current generation: judged by the current rules.
    Current,
    /// A member of a closed generation, with the role the person had at its close.
    Closed(Role),
}

/// Why a record is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum RecordRefusal {
    /// Sealed under a generation this device does not hold (yet).
    #[error("sealed under a history key this device does not hold")]
    UnknownGeneration,
    /// Sealed under a generation that had ended before records of a later one.
    #[error("sealed under a generation that had already ended")]
    AfterItsGeneration,
    /// Its author's device was not a member while the generation was current.
    #[error("its author's device was not a member while its generation was current")]
    NotAMember,
}

impl RecordRefusal {
    /// The refusal as the engine's error.
    pub fn to_error(self) -> CoreError {
        CoreError::Verification(Unverified::Record(self))
    }
}

/// A space's history as one device holds it: its generations, the ledger's chain, and
/// the floor under which content records are refused. Persisted with the space.
#[derive(Serialize, Deserialize, Clone)]
pub struct History {
    /// Known generations, oldest first (a device waiting for its grant may hold only
    /// the newest ones).
    generations: Vec<Generation>,
    /// The current generation's number and start, as the ledger says.
    current: u32,
    current_start: u64,
    /// The chain over closed generations, as the ledger says.
    closed_chain: [u8; 32],
    /// Whether every generation is held (false while a grant is awaited).
    complete: bool,
    awaiting: Option<Awaiting>,
    /// The highest generation among the content records read.
    floor: u32,
    /// Whether the space keeps history. A space with `history: none` has no content
    /// store: its ledger carries generations only (no key commitments, no rosters),
    /// and a new member needs no grant.
    keeps: bool,
    /// While the grant is awaited: the devices seen sitting in generations whose key
    /// this device does not hold yet, and the roles at the close of those that closed
    /// meanwhile, applied to the granted generations when the grant comes.
    seen_before_grant: BTreeMap<u32, BTreeMap<[u8; 32], Rostered>>,
    /// The rules (wire bytes) at the close of each such generation.
    closed_before_grant: BTreeMap<u32, Vec<u8>>,
}

impl std::fmt::Debug for History {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("History")
            .field("current", &self.current)
            .field("generations", &self.generations.len())
            .field("complete", &self.complete)
            .finish_non_exhaustive()
    }
}

impl History {
    /// The history of a new space: generation 0 from epoch 0, its key derived there,
    /// the creator's device alone on its roster.
    pub fn new_space(group: &GroupId, key: [u8; 32], creator: Seat, keeps: bool) -> Self {
        let mut roster = BTreeMap::new();
        roster.insert(creator.mls_key, Rostered { identity: *creator.identity.as_bytes(), role: None });
        Self {
            generations: vec![Generation { number: 0, start_epoch: 0, key, closed: false, roster }],
            current: 0,
            current_start: 0,
            closed_chain: initial_chain(group),
            complete: true,
            awaiting: None,
            floor: 0,
            keeps,
            seen_before_grant: BTreeMap::new(),
            closed_before_grant: BTreeMap::new(),
        }
    }

    /// The history of a device that joined at `epoch` with the group context's
    /// `ledger`, where `members` sit. If the current generation starts with this epoch,
    /// `derive` gives its key; earlier generations come in a grant.
    ///
    /// # Errors
    /// From `derive`.
    pub fn joined(
        epoch: u64,
        ledger: &HistoryLedger,
        members: &[Seat],
        keeps: bool,
        derive: impl FnOnce(u32) -> Result<[u8; 32]>,
    ) -> Result<Self> {
        let mut generations = Vec::new();
        if ledger.start_epoch.get() == epoch {
            let key = derive(ledger.generation)?;
            let roster = members
                .iter()
                .map(|m| (m.mls_key, Rostered { identity: *m.identity.as_bytes(), role: None }))
                .collect();
            generations.push(Generation { number: ledger.generation, start_epoch: epoch, key, closed: false, roster });
        }
        let complete = !keeps || (ledger.generation == 0 && !generations.is_empty());
        let awaiting = (!complete).then(|| Awaiting { epoch, ledger: ledger.to_wire(), parts: BTreeMap::new() });
        let mut history = Self {
            generations,
            current: ledger.generation,
            current_start: ledger.start_epoch.get(),
            closed_chain: ledger.closed,
            complete,
            awaiting,
            floor: 0,
            keeps,
            seen_before_grant: BTreeMap::new(),
            closed_before_grant: BTreeMap::new(),
        };
        // A device that joins mid-generation learns its roster so far from the grant;
        // until then it knows who sits now.
        history.seat(members);
        Ok(history)
    }

    /// The history of a space from before ledgers (release 0.1): its keys, without
    /// rosters. Such a space is read-only until a space manager recreates it.
    pub fn legacy(keys: &[(u32, [u8; 32])]) -> Self {
        let generations = keys
            .iter()
            .map(|(number, key)| Generation {
                number: *number,
                start_epoch: 0,
                key: *key,
                closed: false,
                roster: BTreeMap::new(),
            })
            .collect();
        Self {
            generations,
            current: keys.last().map_or(0, |(g, _)| *g),
            current_start: 0,
            closed_chain: [0; 32],
            complete: false,
            awaiting: None,
            floor: 0,
            keeps: true,
            seen_before_grant: BTreeMap::new(),
            closed_before_grant: BTreeMap::new(),
        }
    }

    /// Whether this is the history of a space from before ledgers (release 0.1).
    pub fn is_legacy(&self) -> bool {
        !self.complete && self.awaiting.is_none()
    }

    /// The current generation's number.
    pub fn current(&self) -> u32 {
        self.current
    }

    /// Whether this device holds every generation (it does not while it waits for the
    /// grant of the member who added it).
    pub fn is_complete(&self) -> bool {
        self.complete
    }

    /// The key to seal new records under; `None` while this device does not hold the
    /// current generation (it joined and waits for its grant): nothing is sealed then.
    pub fn sealing_key(&self) -> Option<HistoryKey> {
        self.generation(self.current).map(Generation::history_key)
    }

    /// The key of `generation`, if held.
    pub fn key(&self, generation: u32) -> Option<HistoryKey> {
        self.generation(generation).map(Generation::history_key)
    }

    /// Every key held, oldest first.
    pub fn keys(&self) -> Vec<HistoryKey> {
        self.generations.iter().map(Generation::history_key).collect()
    }

    fn generation(&self, number: u32) -> Option<&Generation> {
        self.generations.iter().find(|g| g.number == number)
    }

    fn generation_mut(&mut self, number: u32) -> Option<&mut Generation> {
        self.generations.iter_mut().find(|g| g.number == number)
    }

    /// Puts the devices sitting in the group at an epoch of the current generation on
    /// its roster (set aside until the grant when this device lacks that generation).
    fn seat(&mut self, members: &[Seat]) {
        let current = self.current;
        let roster = match self.generations.iter_mut().find(|g| g.number == current) {
            Some(generation) => &mut generation.roster,
            None => self.seen_before_grant.entry(current).or_default(),
        };
        for member in members {
            roster.entry(member.mls_key).or_insert(Rostered { identity: *member.identity.as_bytes(), role: None });
        }
    }

    /// The ledger a commit must write: after it, the generation is `current + 1`
    /// starting at `new_epoch` if it removes anyone (`rotates`), and the current one
    /// otherwise. `rules` are the rules of the epoch it closes (the roles at a
    /// generation's close).
    ///
    /// # Errors
    /// [`CoreError::Forbidden`] when a removal would exceed
    /// [`MAX_HISTORY_GENERATIONS`]; [`CoreError::Invalid`] when this device cannot
    /// compute the ledger (it waits for its grant).
    pub fn next_ledger(
        &self,
        group: &GroupId,
        rotates: bool,
        new_epoch: u64,
        rules: &SpaceRules,
    ) -> Result<HistoryLedger> {
        if !self.keeps {
            // Generations only: nothing is sealed, so nothing is committed to.
            let (generation, start) = if rotates {
                let next = self
                    .current
                    .checked_add(1)
                    .filter(|n| (*n as usize) < MAX_HISTORY_GENERATIONS)
                    .ok_or(CoreError::Forbidden(Refusal::GenerationsExhausted))?;
                (next, new_epoch)
            } else {
                (self.current, self.current_start)
            };
            return Ok(HistoryLedger {
                generation,
                start_epoch: Epoch::new(start).map_err(CoreError::Decode)?,
                key_commitment: None,
                closed: initial_chain(group),
            });
        }
        if rotates {
            let next = self
                .current
                .checked_add(1)
                .filter(|n| (*n as usize) < MAX_HISTORY_GENERATIONS)
                .ok_or(CoreError::Forbidden(Refusal::GenerationsExhausted))?;
            let closing = self.closing(rules)?;
            Ok(HistoryLedger {
                generation: next,
                start_epoch: Epoch::new(new_epoch).map_err(CoreError::Decode)?,
                key_commitment: None,
                closed: fold_closed(&self.closed_chain, group, &closing),
            })
        } else {
            let current = self.generation(self.current).ok_or(CoreError::Invalid(InvalidInput::AwaitingHistory))?;
            Ok(HistoryLedger {
                generation: self.current,
                start_epoch: Epoch::new(self.current_start).map_err(CoreError::Decode)?,
                key_commitment: Some(key_commitment(group, current.number, &current.key)),
                closed: self.closed_chain,
            })
        }
    }

    /// The current generation as it closes with `rules`' roles.
    fn closing(&self, rules: &SpaceRules) -> Result<GenerationGrant> {
        let current = self.generation(self.current).ok_or(CoreError::Invalid(InvalidInput::AwaitingHistory))?;
        let mut grant = current.grant()?;
        grant.closed = true;
        let entries =
            grant.roster.iter().map(|e| RosterEntry { role: rules.role_of(&e.identity), ..e.clone() }).collect();
        grant.roster = BoundedVec::new(entries)?;
        Ok(grant)
    }

    /// Checks the ledger a commit wrote against this device's own state (as
    /// [`History::next_ledger`] computes it). A device that waits for its grant checks
    /// what it can: the generation, its start and, when it holds it, the key.
    ///
    /// # Errors
    /// [`CoreError::Forbidden`] when the ledger differs.
    pub fn check_ledger(
        &self,
        group: &GroupId,
        ledger: &HistoryLedger,
        rotates: bool,
        new_epoch: u64,
        rules: &SpaceRules,
    ) -> Result<()> {
        let refuse = || CoreError::Forbidden(Refusal::LedgerMismatch);
        if self.complete {
            return if &self.next_ledger(group, rotates, new_epoch, rules)? == ledger { Ok(()) } else { Err(refuse()) };
        }
        let expected_generation = if rotates { self.current.checked_add(1).ok_or_else(refuse)? } else { self.current };
        let expected_start = if rotates { new_epoch } else { self.current_start };
        if ledger.generation != expected_generation || ledger.start_epoch.get() != expected_start {
            return Err(refuse());
        }
        if rotates {
            // The closed chain needs the roster this device does not hold yet.
            return if ledger.key_commitment.is_none() { Ok(()) } else { Err(refuse()) };
        }
        if ledger.closed != self.closed_chain {
            return Err(refuse());
        }
        match self.generation(self.current) {
            Some(current) if ledger.key_commitment != Some(key_commitment(group, current.number, &current.key)) => {
                Err(refuse())
            }
            None if ledger.key_commitment.is_none() => Err(refuse()),
            _ => Ok(()),
        }
    }

    /// Applies a merged commit: with `rotates`, the current generation closes with
    /// `rules`' roles (the rules of the epoch the commit closed) and generation
    /// `ledger.generation` starts with `key`; either way, the devices in `members`
    /// (the group at the new epoch) sit on the current roster. `ledger` is the new
    /// context's, already checked.
    pub fn merged(
        &mut self,
        ledger: &HistoryLedger,
        rotates: bool,
        key: Option<[u8; 32]>,
        members: &[Seat],
        rules: &SpaceRules,
    ) {
        if rotates {
            let role_of = |identity: &[u8; 32]| rules.role_of(&IdentityPublicKey::from_bytes(*identity)) as u8;
            let current = self.current;
            if let Some(generation) = self.generation_mut(current) {
                generation.closed = true;
                for rostered in generation.roster.values_mut() {
                    rostered.role = Some(role_of(&rostered.identity));
                }
            } else {
                // Closed before its grant came: the rules at its close are kept for
                // the devices the grant will list.
                self.closed_before_grant.insert(current, rules.to_wire());
            }
            self.closed_chain = ledger.closed;
            self.current = ledger.generation;
            self.current_start = ledger.start_epoch.get();
            if let Some(key) = key {
                self.generations.push(Generation {
                    number: ledger.generation,
                    start_epoch: ledger.start_epoch.get(),
                    key,
                    closed: false,
                    roster: BTreeMap::new(),
                });
            }
        }
        self.seat(members);
    }

    /// Takes one message of a grant. Returns `true` once the grant is whole and
    /// checked: every generation held. A grant for another first epoch, or from a
    /// device that does not wait for one, is ignored (`false`).
    ///
    /// # Errors
    /// [`CoreError::Verification`] when the grant, once whole, does not match the
    /// ledger of this device's first epoch (its adder lied); nothing is taken then.
    pub fn take_grant(&mut self, group: &GroupId, grant: &HistoryGrant) -> Result<bool> {
        let Some(awaiting) = &mut self.awaiting else { return Ok(false) };
        if grant.for_epoch.get() != awaiting.epoch {
            return Ok(false);
        }
        for generation in grant.generations.iter() {
            if awaiting.parts.len() >= MAX_HISTORY_GENERATIONS {
                return Err(CoreError::Invalid(InvalidInput::TooMany {
                    limit: Limit::HistoryGenerations,
                    max: MAX_HISTORY_GENERATIONS as u64,
                }));
            }
            awaiting.parts.insert(generation.key.generation(), generation.to_wire());
        }
        let ledger = HistoryLedger::from_wire(&awaiting.ledger)?;
        // Whole when it holds every generation before the one that starts with the
        // first epoch, or every one up to the current when it started earlier.
        let starts_here = ledger.start_epoch.get() == awaiting.epoch;
        let needed = if starts_here { ledger.generation } else { ledger.generation + 1 };
        if (0..needed).any(|n| !awaiting.parts.contains_key(&n)) {
            return Ok(false);
        }
        let mut granted = Vec::new();
        for number in 0..needed {
            let bytes = awaiting.parts.get(&number).ok_or(CoreError::Verification(Unverified::History))?;
            granted.push(GenerationGrant::from_wire(bytes)?);
        }
        // A grant that does not match is forgotten whole: an honest one may follow.
        let refuse = CoreError::Verification(Unverified::History);
        awaiting.parts.clear();
        let mut chain = initial_chain(group);
        let mut previous_start = None;
        for grant in &granted {
            let start = grant.start_epoch.get();
            if previous_start.is_some_and(|p| start <= p)
                || grant.roster.as_slice().windows(2).any(|w| w[0].mls_key >= w[1].mls_key)
            {
                return Err(refuse);
            }
            previous_start = Some(start);
            if grant.key.generation() < ledger.generation {
                if !grant.closed {
                    return Err(refuse);
                }
                chain = fold_closed(&chain, group, grant);
            } else {
                // The current generation, started before this device joined.
                let key = grant.key.expose_for_storage();
                if grant.closed
                    || start != ledger.start_epoch.get()
                    || ledger.key_commitment != Some(key_commitment(group, grant.key.generation(), &key))
                {
                    return Err(refuse);
                }
            }
        }
        if chain != ledger.closed {
            return Err(refuse);
        }
        // Taken: the granted generations, with the devices this device saw sit in
        // them since it joined, closed with the roles of their close if they closed
        // meanwhile; then the generations it derived itself.
        let mut generations: Vec<Generation> = granted.iter().map(Generation::from_grant).collect();
        for generation in &mut generations {
            if let Some(seen) = self.seen_before_grant.remove(&generation.number) {
                for (mls_key, rostered) in seen {
                    generation.roster.entry(mls_key).or_insert(rostered);
                }
            }
            if let Some(rules) = self.closed_before_grant.remove(&generation.number) {
                let rules = SpaceRules::from_extension_bytes(&rules)?;
                generation.closed = true;
                for rostered in generation.roster.values_mut() {
                    rostered.role = Some(rules.role_of(&IdentityPublicKey::from_bytes(rostered.identity)) as u8);
                }
            }
        }
        for own in std::mem::take(&mut self.generations) {
            match generations.iter_mut().find(|g| g.number == own.number) {
                Some(granted) => {
                    for (mls_key, rostered) in &own.roster {
                        granted.roster.entry(*mls_key).or_insert(*rostered);
                    }
                }
                None => generations.push(own),
            }
        }
        generations.sort_by_key(|g| g.number);
        self.generations = generations;
        self.seen_before_grant.clear();
        self.closed_before_grant.clear();
        self.awaiting = None;
        self.complete = true;
        // The content store is read again from its start with every key.
        self.floor = 0;
        Ok(true)
    }

    /// The grant for members whose first epoch is `for_epoch`, which the adding commit
    /// starts (it rotates when `rotates`), as this device holds the history before that
    /// commit is merged; in parts of at most [`MAX_GRANT_PART_LEN`] bytes.
    ///
    /// # Errors
    /// [`CoreError::Invalid`] when this device does not hold the whole history.
    pub fn grant(&self, for_epoch: u64, rotates: bool, rules: &SpaceRules) -> Result<Vec<HistoryGrant>> {
        if !self.complete {
            return Err(CoreError::Invalid(InvalidInput::AwaitingHistory));
        }
        let mut generations = Vec::new();
        for generation in &self.generations {
            if generation.number == self.current {
                if rotates {
                    generations.push(self.closing(rules)?);
                } else {
                    generations.push(generation.grant()?);
                }
            } else {
                generations.push(generation.grant()?);
            }
        }
        let for_epoch = Epoch::new(for_epoch).map_err(CoreError::Decode)?;
        let mut parts = Vec::new();
        let mut part = Vec::new();
        let mut size = 0;
        for generation in generations {
            let len = generation.to_wire().len();
            if !part.is_empty() && size + len > MAX_GRANT_PART_LEN {
                parts.push(HistoryGrant { for_epoch, generations: BoundedVec::new(std::mem::take(&mut part))? });
                size = 0;
            }
            size += len;
            part.push(generation);
        }
        parts.push(HistoryGrant { for_epoch, generations: BoundedVec::new(part)? });
        Ok(parts)
    }

    /// Judges a record sealed under `generation` by the device with `mls_key` of
    /// `identity`, which is a member now when `member_now`. On success, the floor
    /// rises to the record's generation.
    ///
    /// # Errors
    /// The [`RecordRefusal`].
    pub fn admit_record(
        &mut self,
        generation: u32,
        identity: &IdentityPublicKey,
        mls_key: &[u8; 32],
        member_now: bool,
    ) -> std::result::Result<Standing, RecordRefusal> {
        if generation < self.floor {
            return Err(RecordRefusal::AfterItsGeneration);
        }
        let held = self.generation(generation).ok_or(RecordRefusal::UnknownGeneration)?;
        let standing = if generation == self.current {
            if !member_now {
                return Err(RecordRefusal::NotAMember);
            }
            Standing::Current
        } else {
            let rostered = held.roster.get(mls_key).ok_or(RecordRefusal::NotAMember)?;
            if &rostered.identity != identity.as_bytes() {
                return Err(RecordRefusal::NotAMember);
            }
            let role = rostered.role.and_then(|tag| Role::from_wire(&[tag]).ok()).ok_or(RecordRefusal::NotAMember)?;
            Standing::Closed(role)
        };
        self.floor = self.floor.max(generation);
        Ok(standing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::space::{HistoryMode, Policy, SpaceDescription, SpaceName};

    fn seat(n: u8) -> Seat {
        Seat { identity: IdentityPublicKey::from_bytes([n; 32]), mls_key: [n + 100; 32] }
    }

    fn rules() -> SpaceRules {
        SpaceRules::new(
            SpaceName::new("Case 9").unwrap(),
            SpaceDescription::new("").unwrap(),
            Policy::Confidential,
            HistoryMode::Keep,
            seat(1).identity,
        )
        .with_role(seat(3).identity, Role::Reader)
        .unwrap()
    }

    /// A space created by 1 at epoch 0, with 2 and 3 added at epoch 1, 3 removed at
    /// epoch 2 (generation 1 starts), and 4 added at epoch 3: the history of a member
    /// who saw it all, and the ledger of each epoch.
    fn lived() -> (GroupId, History, Vec<HistoryLedger>) {
        let group = GroupId::from_bytes([9; 16]);
        let rules = rules();
        let mut history = History::new_space(&group, [0xa0; 32], seat(1), true);
        let mut ledgers = Vec::new();
        // Epoch 1: adds.
        let ledger = history.next_ledger(&group, false, 1, &rules).unwrap();
        history.check_ledger(&group, &ledger, false, 1, &rules).unwrap();
        history.merged(&ledger, false, None, &[seat(1), seat(2), seat(3)], &rules);
        ledgers.push(ledger);
        // Epoch 2: 3 removed.
        let ledger = history.next_ledger(&group, true, 2, &rules).unwrap();
        history.check_ledger(&group, &ledger, true, 2, &rules).unwrap();
        history.merged(&ledger, true, Some([0xa1; 32]), &[seat(1), seat(2)], &rules);
        ledgers.push(ledger);
        // Epoch 3: 4 added.
        let ledger = history.next_ledger(&group, false, 3, &rules).unwrap();
        history.merged(&ledger, false, None, &[seat(1), seat(2), seat(4)], &rules);
        ledgers.push(ledger);
        (group, history, ledgers)
    }

    #[test]
    fn a_removal_starts_a_generation_and_the_ledger_commits_to_what_closed() {
        let (group, history, ledgers) = lived();
        assert_eq!((ledgers[0].generation, ledgers[0].key_commitment.is_some()), (0, true));
        assert_eq!((ledgers[1].generation, ledgers[1].start_epoch.get(), ledgers[1].key_commitment), (1, 2, None));
        assert_ne!(ledgers[1].closed, initial_chain(&group));
        assert_eq!(ledgers[2].key_commitment, Some(key_commitment(&group, 1, &[0xa1; 32])));
        assert_eq!(history.current(), 1);
        assert_eq!(history.sealing_key().unwrap().generation(), 1);
        // Any other ledger is refused by a member who holds the history.
        let rules = rules();
        let good = history.next_ledger(&group, false, 4, &rules).unwrap();
        for bad in [
            HistoryLedger { generation: 2, ..good.clone() },
            HistoryLedger { key_commitment: Some([0; 32]), ..good.clone() },
            HistoryLedger { closed: [1; 32], ..good.clone() },
            HistoryLedger { start_epoch: Epoch::new(3).unwrap(), ..good.clone() },
        ] {
            assert!(history.check_ledger(&group, &bad, false, 4, &rules).is_err(), "{bad:?}");
        }
        // A role changed in a closed generation's roster changes the chain.
        let promoted = rules.with_role(seat(3).identity, Role::SpaceManager).unwrap();
        let mut other = History::new_space(&group, [0xa0; 32], seat(1), true);
        let ledger = other.next_ledger(&group, false, 1, &promoted).unwrap();
        other.merged(&ledger, false, None, &[seat(1), seat(2), seat(3)], &promoted);
        assert_ne!(other.next_ledger(&group, true, 2, &promoted).unwrap().closed, ledgers[1].closed);
    }

    #[test]
    fn generations_end_at_their_bound_instead_of_wrapping() {
        let group = GroupId::from_bytes([9; 16]);
        let mut history = History::new_space(&group, [0; 32], seat(1), true);
        history.current = (MAX_HISTORY_GENERATIONS - 1) as u32;
        assert!(matches!(history.next_ledger(&group, true, 5, &rules()), Err(CoreError::Forbidden(_))));
        history.current = u32::MAX;
        assert!(history.next_ledger(&group, true, 5, &rules()).is_err());
    }

    #[test]
    fn a_newcomer_takes_only_the_history_the_ledger_commits_to() {
        let (group, history, ledgers) = lived();
        let rules = rules();
        // 5 is added at epoch 4 by a member holding `history`.
        let parts = history.grant(4, false, &rules).unwrap();
        let join_ledger = history.next_ledger(&group, false, 4, &rules).unwrap();
        let fresh = || {
            History::joined(4, &join_ledger, &[seat(1), seat(2), seat(4), seat(5)], true, |_| unreachable!()).unwrap()
        };
        let mut newcomer = fresh();
        assert!(newcomer.sealing_key().is_none(), "nothing is sealed before the grant");
        assert!(newcomer.take_grant(&group, &parts[0]).unwrap());
        assert_eq!(newcomer.keys().len(), 2);
        assert_eq!(newcomer.sealing_key().unwrap().expose_for_storage(), [0xa1; 32]);
        // Records: 3 (removed at the start of generation 1) wrote in generation 0 as
        // a reader, not in generation 1; 5 writes in generation 1.
        assert_eq!(
            newcomer.admit_record(0, &seat(3).identity, &seat(3).mls_key, false),
            Ok(Standing::Closed(Role::Reader))
        );
        assert_eq!(
            newcomer.admit_record(1, &seat(3).identity, &seat(3).mls_key, false),
            Err(RecordRefusal::NotAMember)
        );
        assert_eq!(newcomer.admit_record(1, &seat(5).identity, &seat(5).mls_key, true), Ok(Standing::Current));
        assert_eq!(
            newcomer.admit_record(0, &seat(1).identity, &seat(1).mls_key, true),
            Err(RecordRefusal::AfterItsGeneration),
            "once generation 1 was read, generation 0 is over"
        );
        // A lying adder: another key, a roster with an extra device, a wrong start.
        let honest = parts[0].generations.clone().into_vec();
        let mut lies = Vec::new();
        let mut lie = honest.clone();
        lie[1].key = HistoryKey::from_parts(1, [0x66; 32]);
        lies.push(lie);
        let mut lie = honest.clone();
        let mut roster = lie[0].roster.clone().into_vec();
        roster.push(RosterEntry { identity: seat(8).identity, mls_key: [0xff; 32], role: Role::SpaceManager });
        lie[0].roster = BoundedVec::new(roster).unwrap();
        lies.push(lie);
        let mut lie = honest.clone();
        lie[0].start_epoch = Epoch::new(1).unwrap();
        lies.push(lie);
        for lie in lies {
            let mut newcomer = fresh();
            let grant = HistoryGrant { for_epoch: Epoch::new(4).unwrap(), generations: BoundedVec::new(lie).unwrap() };
            assert!(newcomer.take_grant(&group, &grant).is_err());
            assert!(newcomer.sealing_key().is_none());
            // The honest grant that follows is taken.
            assert!(newcomer.take_grant(&group, &parts[0]).unwrap());
        }
        // A grant for another first epoch is not for this newcomer.
        let mut newcomer = fresh();
        let other = HistoryGrant { for_epoch: Epoch::new(3).unwrap(), ..parts[0].clone() };
        assert!(!newcomer.take_grant(&group, &other).unwrap());
        let _ = ledgers;
    }
}
