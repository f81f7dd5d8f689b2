//! What the apps read: spaces, feeds, members, notifications.

use super::*;

impl Engine {
    // -----------------------------------------------------------------------------
    // Queries.

    /// The spaces this device is in, with invitations not yet accepted among them.
    pub fn spaces(&self) -> Vec<SpaceSummary> {
        self.spaces
            .iter()
            .filter_map(|(id, space)| {
                let rules = crate::mls::rules_of(space.group.extensions()).ok()?;
                Some(SpaceSummary {
                    id: *id,
                    name: rules.name.as_str().to_owned(),
                    description: rules.description.as_str().to_owned(),
                    policy: rules.policy,
                    history: rules.history,
                    my_role: rules.role_of(&self.identity),
                    unread: space.meta.unread,
                    epoch: space.group.epoch().as_u64(),
                    removed: space.meta.removed,
                    stalled: space.meta.stalled,
                    replaced_by: space.meta.replaced_by.map(GroupId::from_bytes),
                    muted: space.meta.muted,
                    accepted: space.meta.accepted,
                    last_activity: self.last_activity(id),
                })
            })
            .collect()
    }

    /// When the newest item of a space's feed was written. An author's clock is theirs
    /// to set: a date in this device's future is shown as now.
    fn last_activity(&self, space: &GroupId) -> Option<u64> {
        let (_, id) = self.store.newest_in_feed(space).ok()??;
        let written = self.store.feed_item(space, &id).ok()??.created_at;
        Some(if self.now > 0 { written.min(self.now) } else { written })
    }

    /// The members of a space, one entry per person.
    ///
    /// # Errors
    /// [`CoreError::NotFound`]; [`CoreError::Verification`] if a stored credential
    /// does not verify.
    pub fn members(&self, space: &GroupId) -> Result<Vec<MemberSummary>> {
        let entry = self.spaces.get(space).ok_or(CoreError::NotFound(Missing::Space))?;
        let rules = crate::mls::rules_of(entry.group.extensions())?;
        let mut people: BTreeMap<IdentityPublicKey, MemberSummary> = BTreeMap::new();
        for member in entry.group.members() {
            let cert = crate::mls::certificate_of(&member.credential, &member.signature_key)?;
            people
                .entry(cert.body.identity)
                .or_insert_with(|| MemberSummary {
                    identity: cert.body.identity,
                    name: cert.body.name.to_string(),
                    role: rules.role_of(&cert.body.identity),
                    devices: Vec::new(),
                })
                .devices
                .push(cert.body.device);
        }
        Ok(people.into_values().collect())
    }

    /// The space's items (posts and comments), in arrival order.
    ///
    /// # Errors
    /// Store errors.
    pub fn feed(&self, space: &GroupId) -> Result<Vec<FeedItem>> {
        let mut items = Vec::new();
        for id in self.store.feed_ids(space)? {
            if let Some(item) = self.item(space, &id)? {
                items.push(item);
            }
        }
        Ok(items)
    }

    /// A page of the space's feed, newest first: at most `limit` items that arrived
    /// before position `before` (the newest, if `None`). The next page is asked with
    /// the last item's `position`. Reads about `limit` items, however long the feed.
    ///
    /// # Errors
    /// Store errors.
    pub fn feed_page(&self, space: &GroupId, before: Option<u64>, limit: usize) -> Result<Vec<FeedItem>> {
        let mut items = Vec::with_capacity(limit.min(1024));
        let mut cursor = before;
        // An id in the order whose item is gone (never, today) is skipped, and the page
        // filled from further back.
        while items.len() < limit {
            let wanted = limit - items.len();
            let ids = self.store.feed_ids_before(space, cursor, wanted)?;
            let Some((oldest, _)) = ids.last() else { break };
            cursor = Some(*oldest);
            let exhausted = ids.len() < wanted;
            for (_, id) in ids {
                if let Some(item) = self.item(space, &id)? {
                    items.push(item);
                }
            }
            if exhausted {
                break;
            }
        }
        Ok(items)
    }

    /// One item.
    ///
    /// # Errors
    /// Store errors.
    pub fn item(&self, space: &GroupId, id: &ContentId) -> Result<Option<FeedItem>> {
        Ok(self.store.feed_item(space, id)?.map(|record| record.view(self.is_waiting(id))))
    }

    /// Mutes or unmutes a space's new posts; replies and reactions to this person
    /// still notify.
    ///
    /// # Errors
    /// [`CoreError::NotFound`]; store errors.
    pub fn set_muted(&mut self, space: &GroupId, muted: bool) -> Result<()> {
        self.spaces.get_mut(space).ok_or(CoreError::NotFound(Missing::Space))?.meta.muted = muted;
        self.save_group(space)?;
        self.persist()
    }

    /// Marks everything in the space read.
    ///
    /// # Errors
    /// Store errors.
    pub fn mark_read(&mut self, space: &GroupId) -> Result<()> {
        if let Some(entry) = self.spaces.get_mut(space) {
            entry.meta.unread = 0;
        }
        self.save_group(space)?;
        self.persist()
    }

    /// Items waiting in the outbox, and Welcomes waiting to be delivered.
    ///
    /// # Errors
    /// Store errors.
    pub fn outbox_len(&self) -> Result<usize> {
        Ok(self.store.outbox().len()? + self.store.deliveries().len()?)
    }

    /// The MLS epoch authenticator of a space, to compare out of band: two devices that
    /// show the same value share the same group state (no fork).
    ///
    /// # Errors
    /// [`CoreError::NotFound`].
    pub fn epoch_authenticator(&self, space: &GroupId) -> Result<Vec<u8>> {
        let entry = self.spaces.get(space).ok_or(CoreError::NotFound(Missing::Space))?;
        Ok(entry.group.epoch_authenticator().as_slice().to_vec())
    }
}
