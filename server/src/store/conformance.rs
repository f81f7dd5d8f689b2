//! One conformance suite for every [`RelayStore`]: random sequences of operations run
//! against a store and against a model of what the protocol promises (dense sequence
//! numbers per group, one commit per epoch, stale epochs refused, idempotent resends,
//! content ids unique per group, quotas exact, an operator's settings kept, invitations
//! used once). A backend passes it by calling [`follows_the_model`] from a proptest
//! with [`op`]; sled does (`sled_store`, sealed and in clear). Built for the crate's
//! tests, and for another backend's with the feature `conformance`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};

use huisclos_protocol::access::AccessToken;
use huisclos_protocol::auth::DevicePublicKey;
use huisclos_protocol::ids::{AccountId, ByteCount, ContentId, Epoch, ForgetKey, GroupId, Seq, UnixSeconds};
use huisclos_protocol::messages::{
    ContentRecordBytes, EntryKind, LogRetention, MlsMessageBytes, RelayError, tombstone,
};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

use super::{AccountChange, AccountSettings, AccountSummary, RelayStore, StoreLimits};
use crate::Error;

/// One operation of a sequence.
#[derive(Debug, Clone)]
pub enum Op {
    /// Create group `group` (again: a resend).
    Create {
        /// Which of three groups.
        group: u8,
    },
    /// Append a message; `epoch_offset` picks the group's current epoch (0), the one
    /// before (1) or the one after (2).
    Append {
        /// Which group.
        group: u8,
        /// Which epoch, relative to the current one.
        epoch_offset: u8,
        /// Which of four messages.
        message: u8,
    },
    /// Commit, closing an epoch.
    Commit {
        /// Which group.
        group: u8,
        /// Which epoch, relative to the current one.
        epoch_offset: u8,
        /// Which of four messages.
        message: u8,
    },
    /// Put a content record.
    Put {
        /// Which group.
        group: u8,
        /// Which epoch, relative to the current one.
        epoch_offset: u8,
        /// Which of three record ids.
        record: u8,
        /// Which of two contents.
        bytes: u8,
    },
    /// Forget a content record with the key of one of the three ids (only the third's
    /// matches its id).
    Forget {
        /// Which group.
        group: u8,
        /// Which epoch, relative to the current one.
        epoch_offset: u8,
        /// Whose key.
        record: u8,
    },
    /// Fetch a log page.
    Fetch {
        /// Which group.
        group: u8,
        /// Which epoch.
        epoch: u8,
        /// From which position.
        from: u8,
    },
    /// Record an invitation.
    Invite {
        /// Which of four invitations.
        invitation: u8,
    },
    /// Revoke an invitation.
    RevokeInvitation {
        /// Which invitation.
        invitation: u8,
    },
    /// Open an account with an invitation and a device key.
    Open {
        /// Which invitation.
        invitation: u8,
        /// Which of four device keys.
        key: u8,
    },
    /// Reserve `amount` hundred bytes of an account's quota.
    Reserve {
        /// Which opened account (modulo their number).
        account: u8,
        /// Hundreds of bytes.
        amount: u8,
    },
    /// Give back `amount` hundred bytes.
    Release {
        /// Which opened account.
        account: u8,
        /// Hundreds of bytes.
        amount: u8,
    },
    /// Set an account's operator settings.
    Settings {
        /// Which opened account (none opened: an unknown account).
        account: u8,
        /// Disabled or not.
        disabled: bool,
        /// A quota of its own, in hundreds of bytes.
        quota: Option<u8>,
    },
    /// List accounts and invitations, and compare.
    List,
}

/// A random operation.
pub fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0u8..3).prop_map(|group| Op::Create { group }),
        (0u8..3, 0u8..3, 0u8..4).prop_map(|(group, epoch_offset, message)| Op::Append { group, epoch_offset, message }),
        (0u8..3, 0u8..3, 0u8..4).prop_map(|(group, epoch_offset, message)| Op::Commit { group, epoch_offset, message }),
        (0u8..3, 0u8..3, 0u8..3, 0u8..2).prop_map(|(group, epoch_offset, record, bytes)| Op::Put {
            group,
            epoch_offset,
            record,
            bytes
        }),
        (0u8..3, 0u8..3, 0u8..3).prop_map(|(group, epoch_offset, record)| Op::Forget { group, epoch_offset, record }),
        (0u8..3, 0u8..6, 0u8..12).prop_map(|(group, epoch, from)| Op::Fetch { group, epoch, from }),
        (0u8..4).prop_map(|invitation| Op::Invite { invitation }),
        (0u8..4).prop_map(|invitation| Op::RevokeInvitation { invitation }),
        (0u8..4, 0u8..4).prop_map(|(invitation, key)| Op::Open { invitation, key }),
        (0u8..4, 0u8..40).prop_map(|(account, amount)| Op::Reserve { account, amount }),
        (0u8..4, 0u8..40).prop_map(|(account, amount)| Op::Release { account, amount }),
        (0u8..4, any::<bool>(), proptest::option::of(0u8..60)).prop_map(|(account, disabled, quota)| Op::Settings {
            account,
            disabled,
            quota
        }),
        Just(Op::List),
    ]
}

#[derive(Default)]
struct ModelGroup {
    epoch: u64,
    /// (seq, epoch, is commit, message)
    log: Vec<(u64, u64, bool, Vec<u8>)>,
    /// By record: (seq, bytes), the bytes `None` once forgotten.
    records: BTreeMap<u8, (u64, Option<Vec<u8>>)>,
}

/// The key that forgets record `record`'s id: only record 2's id is its key's.
fn forget_key(record: u8) -> ForgetKey {
    ForgetKey::from_bytes([0xf0 | record; 32])
}

/// Record `record`'s id in group `group`: 2's is its key's, the others' drawn "at
/// random".
fn record_id(group: u8, record: u8) -> ContentId {
    if record == 2 {
        forget_key(record).record(&GroupId::from_bytes([group + 1; 16]))
    } else {
        ContentId::from_bytes([record; 16])
    }
}

struct ModelAccount {
    id: AccountId,
    usage: u64,
    settings: AccountSettings,
}

#[derive(Default)]
struct ModelAccounts {
    invitations: BTreeSet<u8>,
    keys: BTreeSet<u8>,
    opened: Vec<ModelAccount>,
}

impl ModelAccounts {
    fn pick(&mut self, n: u8) -> Option<&mut ModelAccount> {
        let count = self.opened.len();
        (count > 0).then(|| &mut self.opened[usize::from(n) % count])
    }
}

fn refused(result: Result<impl std::fmt::Debug, Error>) -> Option<RelayError> {
    match result {
        Err(Error::Refused(error)) => Some(error),
        Ok(_) => None,
        Err(other) => panic!("a store failure: {other}"),
    }
}

/// The current epoch, a past one (or, at epoch 0, a far one), or the next.
fn epoch_for(current: u64, offset: u8) -> u64 {
    match offset {
        0 => current,
        1 if current == 0 => 5,
        1 => current - 1,
        _ => current + 1,
    }
}

fn invitation_digest(invitation: u8) -> [u8; 32] {
    [invitation.wrapping_add(0x40); 32]
}

fn device_key(key: u8) -> DevicePublicKey {
    let signing = ed25519_dalek::SigningKey::from_bytes(&[key.wrapping_add(1); 32]);
    DevicePublicKey::from_bytes(signing.verifying_key().to_bytes()).unwrap()
}

/// Runs `ops` against `store` (new and empty) and the model, failing at the first
/// difference.
///
/// # Errors
/// The difference, as a proptest failure.
#[allow(clippy::too_many_lines)]
pub fn follows_the_model<S: RelayStore>(store: &S, ops: &[Op]) -> Result<(), TestCaseError> {
    let token = AccessToken::from_bytes([4; 32]);
    let far = UnixSeconds::new(1 << 40).unwrap();
    let now = UnixSeconds::new(1_000).unwrap();
    let limits = StoreLimits {
        key_packages_per_device: 4,
        welcomes_per_device: 4,
        devices_per_account: 4,
        quota_bytes: 2_000,
        max_chunk_len: 1024,
    };
    let mut model: BTreeMap<u8, ModelGroup> = BTreeMap::new();
    let mut model_accounts = ModelAccounts::default();
    let group_id = |g: u8| GroupId::from_bytes([g + 1; 16]);
    let message = |m: u8| MlsMessageBytes::new(vec![m; 8 + usize::from(m)]).unwrap();
    for op in ops.iter().cloned() {
        match op {
            Op::Create { group } => {
                let result = refused(store.create_group(group_id(group), token.verifier(), LogRetention::Keep));
                match model.entry(group) {
                    std::collections::btree_map::Entry::Occupied(_) => {
                        // The same first verifier: a resend, which changes nothing.
                        prop_assert_eq!(result, None);
                    }
                    std::collections::btree_map::Entry::Vacant(slot) => {
                        prop_assert_eq!(result, None);
                        slot.insert(ModelGroup::default());
                    }
                }
            }
            Op::Append { group, epoch_offset, message: m } => {
                let current = model.get(&group).map_or(0, |g| g.epoch);
                let epoch = epoch_for(current, epoch_offset);
                let result = store.append(group_id(group), Epoch::new(epoch).unwrap(), &message(m), far);
                let Some(modelled) = model.get_mut(&group) else {
                    prop_assert_eq!(refused(result), Some(RelayError::Forbidden));
                    continue;
                };
                if epoch != modelled.epoch {
                    let stale = matches!(refused(result), Some(RelayError::StaleEpoch { .. }));
                    prop_assert!(stale, "an epoch other than the current one is stale");
                    continue;
                }
                let bytes = message(m).as_bytes().to_vec();
                let (seq, stored) = result.unwrap();
                match modelled.log.iter().find(|e| e.1 == epoch && !e.2 && e.3 == bytes) {
                    Some(existing) => prop_assert_eq!((seq.get(), stored), (existing.0, false)),
                    None => {
                        prop_assert_eq!((seq.get(), stored), (modelled.log.len() as u64, true));
                        modelled.log.push((seq.get(), epoch, false, bytes));
                    }
                }
            }
            Op::Commit { group, epoch_offset, message: m } => {
                let current = model.get(&group).map_or(0, |g| g.epoch);
                let epoch = epoch_for(current, epoch_offset);
                let result = store.commit(group_id(group), Epoch::new(epoch).unwrap(), &message(m), token.verifier());
                let Some(modelled) = model.get_mut(&group) else {
                    prop_assert_eq!(refused(result), Some(RelayError::Forbidden));
                    continue;
                };
                if epoch != modelled.epoch {
                    let stale = matches!(refused(result), Some(RelayError::StaleEpoch { .. }));
                    prop_assert!(stale, "an epoch other than the current one is stale");
                    continue;
                }
                let (seq, next) = result.unwrap();
                prop_assert_eq!((seq.get(), next.get()), (modelled.log.len() as u64, epoch + 1));
                modelled.log.push((seq.get(), epoch, true, message(m).as_bytes().to_vec()));
                modelled.epoch += 1;
            }
            Op::Put { group, epoch_offset, record, bytes } => {
                let current = model.get(&group).map_or(0, |g| g.epoch);
                let epoch = epoch_for(current, epoch_offset);
                let sealed = ContentRecordBytes::new(vec![bytes + 1; 20]).unwrap();
                let id = record_id(group, record);
                let result = store.put_content(group_id(group), Epoch::new(epoch).unwrap(), id, &sealed);
                let Some(modelled) = model.get_mut(&group) else {
                    prop_assert_eq!(refused(result), Some(RelayError::Forbidden));
                    continue;
                };
                if epoch != modelled.epoch {
                    let stale = matches!(refused(result), Some(RelayError::StaleEpoch { .. }));
                    prop_assert!(stale, "an epoch other than the current one is stale");
                    continue;
                }
                match modelled.records.get(&record) {
                    // A forgotten record put again is a resend: its bytes are gone.
                    Some((seq, held)) if held.as_ref().is_none_or(|held| *held == vec![bytes + 1; 20]) => {
                        let (got, stored) = result.unwrap();
                        prop_assert_eq!((got.get(), stored), (*seq, false));
                    }
                    Some(_) => prop_assert_eq!(refused(result), Some(RelayError::Conflict)),
                    None => {
                        let (got, stored) = result.unwrap();
                        let seq = modelled.records.len() as u64;
                        prop_assert_eq!((got.get(), stored), (seq, true));
                        modelled.records.insert(record, (seq, Some(vec![bytes + 1; 20])));
                    }
                }
            }
            Op::Forget { group, epoch_offset, record } => {
                let current = model.get(&group).map_or(0, |g| g.epoch);
                let epoch = epoch_for(current, epoch_offset);
                let key = forget_key(record);
                let result =
                    store.forget_content(group_id(group), Epoch::new(epoch).unwrap(), record_id(group, record), &key);
                if record != 2 {
                    prop_assert_eq!(refused(result), Some(RelayError::BadRequest), "a key that is not the id's");
                    continue;
                }
                let Some(modelled) = model.get_mut(&group) else {
                    prop_assert_eq!(refused(result), Some(RelayError::Forbidden));
                    continue;
                };
                if epoch != modelled.epoch {
                    let stale = matches!(refused(result), Some(RelayError::StaleEpoch { .. }));
                    prop_assert!(stale, "an epoch other than the current one is stale");
                    continue;
                }
                let Some((seq, held)) = modelled.records.get_mut(&record) else {
                    prop_assert_eq!(refused(result), Some(RelayError::NotFound));
                    continue;
                };
                let (got, freed) = result.unwrap();
                let expected_freed = held.take().map_or(0, |held| (held.len() as u64).saturating_sub(33));
                prop_assert_eq!((got.get(), freed), (*seq, expected_freed));
                // Its tombstone is read in its place.
                let page = store.fetch_content(group_id(group), got, 1, 1 << 20).unwrap();
                prop_assert_eq!(page.records.len(), 1);
                prop_assert_eq!(page.records[0].record, record_id(group, record));
                let tomb = tombstone(&key);
                prop_assert_eq!(page.records[0].sealed.as_bytes(), tomb.as_bytes());
            }
            Op::Fetch { group, epoch, from } => {
                let result = store.fetch_log(
                    group_id(group),
                    Epoch::new(u64::from(epoch)).unwrap(),
                    Seq::new(u64::from(from)).unwrap(),
                    1024,
                    1 << 20,
                );
                let Some(modelled) = model.get(&group).filter(|g| u64::from(epoch) <= g.epoch) else {
                    prop_assert_eq!(refused(result), Some(RelayError::Forbidden));
                    continue;
                };
                let page = result.unwrap();
                let got: Vec<(u64, bool)> =
                    page.entries.iter().map(|e| (e.seq.get(), e.kind == EntryKind::Commit)).collect();
                let expected: Vec<(u64, bool)> = modelled
                    .log
                    .iter()
                    .filter(|e| e.1 == u64::from(epoch) && e.0 >= u64::from(from))
                    .map(|e| (e.0, e.2))
                    .collect();
                prop_assert_eq!(got, expected);
            }
            Op::Invite { invitation } => {
                store.add_invitation(invitation_digest(invitation), far).unwrap();
                model_accounts.invitations.insert(invitation);
            }
            Op::RevokeInvitation { invitation } => {
                let revoked = store.revoke_invitation(invitation_digest(invitation)).unwrap();
                prop_assert_eq!(revoked, model_accounts.invitations.remove(&invitation));
            }
            Op::Open { invitation, key } => {
                let result = store.create_account(invitation_digest(invitation), &device_key(key), now, &limits);
                if model_accounts.keys.contains(&key) {
                    prop_assert_eq!(refused(result), Some(RelayError::Conflict));
                } else if !model_accounts.invitations.contains(&invitation) {
                    prop_assert_eq!(refused(result), Some(RelayError::InvitationInvalid));
                } else {
                    let account = result.unwrap();
                    model_accounts.invitations.remove(&invitation);
                    model_accounts.keys.insert(key);
                    model_accounts.opened.push(ModelAccount {
                        id: account,
                        usage: 0,
                        settings: AccountSettings::default(),
                    });
                }
            }
            Op::Reserve { account, amount } => {
                let Some(modelled) = model_accounts.pick(account) else { continue };
                let amount = u64::from(amount) * 100;
                let quota = modelled.settings.quota.unwrap_or(limits.quota_bytes);
                let result = store.reserve_quota(modelled.id, amount, limits.quota_bytes);
                if modelled.usage + amount <= quota {
                    prop_assert_eq!(refused(result), None);
                    modelled.usage += amount;
                } else {
                    let refusal = refused(result);
                    let expected = RelayError::QuotaExceeded {
                        used: ByteCount::new(modelled.usage).unwrap(),
                        quota: ByteCount::new(quota).unwrap(),
                    };
                    prop_assert_eq!(refusal, Some(expected), "an account's own quota, else the relay's");
                }
            }
            Op::Release { account, amount } => {
                let Some(modelled) = model_accounts.pick(account) else { continue };
                let amount = u64::from(amount) * 100;
                store.release_quota(modelled.id, amount).unwrap();
                modelled.usage = modelled.usage.saturating_sub(amount);
            }
            Op::Settings { account, disabled, quota } => {
                let change = match (disabled, quota) {
                    (_, Some(q)) if q >= 50 => AccountChange::Quota(None),
                    (_, Some(q)) => AccountChange::Quota(Some(u64::from(q) * 100)),
                    (true, None) => AccountChange::Disable,
                    (false, None) => AccountChange::Enable,
                };
                let Some(modelled) = model_accounts.pick(account) else {
                    let unknown = AccountId::from_bytes([0xee; 16]);
                    prop_assert_eq!(refused(store.change_account(unknown, change)), Some(RelayError::NotFound));
                    continue;
                };
                let settings = store.change_account(modelled.id, change).unwrap();
                modelled.settings = change.apply(modelled.settings);
                prop_assert_eq!(settings, modelled.settings);
            }
            Op::List => {
                let mut expected: Vec<AccountSummary> = model_accounts
                    .opened
                    .iter()
                    .map(|a| AccountSummary { account: a.id, usage: a.usage, devices: 1, settings: a.settings })
                    .collect();
                expected.sort_by_key(|summary| summary.account);
                prop_assert_eq!(store.accounts().unwrap(), expected.clone());
                for summary in expected {
                    prop_assert_eq!(store.account(summary.account).unwrap(), Some(summary));
                    prop_assert_eq!(store.usage(summary.account).unwrap().get(), summary.usage);
                }
                let mut digests: Vec<[u8; 32]> =
                    model_accounts.invitations.iter().map(|i| invitation_digest(*i)).collect();
                digests.sort_unstable();
                let listed: Vec<[u8; 32]> = store.invitations().unwrap().iter().map(|i| i.digest).collect();
                prop_assert_eq!(listed, digests);
            }
        }
    }
    Ok(())
}
