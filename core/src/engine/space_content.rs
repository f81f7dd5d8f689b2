//! A space's content records: pages read from the relay's content store, each opened with the history key of its generation, its author's signature, role and generation checked, and applied to the feed or the library once (by either path).

use super::*;
use huisclos_protocol::messages::{ContentPushed, ContentRecord};

impl Engine {
    pub(super) fn on_content_page(
        &mut self,
        group: GroupId,
        page: huisclos_protocol::messages::ContentPage,
    ) -> Result<()> {
        // Read in the order of the store's positions, whatever the order served: a
        // relay that reverses a page would otherwise make every record but the last
        // look withheld (and a note's updates arrive with gaps).
        let mut records: Vec<&ContentRecord> = page.records.iter().collect();
        records.sort_by_key(|record| record.seq.get());
        let cursor = |engine: &Self| engine.spaces.get(&group).map(|space| space.meta.content_next);
        let before = cursor(self);
        self.apply_content_records(group, &records)?;
        let moved = cursor(self) > before;
        if page.more && moved {
            self.requests.content_behind.insert(group);
            self.requests.jobs.push_front(Job::Sync(group));
        } else if page.more {
            // More follows, says the relay, yet the page moved the reading nowhere: an
            // honest relay serves a record whenever one is due (messages.md 9.2), so
            // asking again would only be asked the same for ever. The reading stops
            // here; the next sync or push asks again.
            tracing::debug!("a content page with more to come that served nothing new");
        } else if let Some(space) = self.spaces.get_mut(&group)
            && !space.meta.caught_up
        {
            space.meta.caught_up = true;
            self.save_group(&group)?;
            self.persist()?;
        }
        Ok(())
    }

    /// A record the relay pushed whole (messages.md 8.3). It is taken exactly as if read
    /// in a page, and only where and when a page would have been read: at the position
    /// this device reads next, in a generation whose key it holds, in a space whose
    /// content store it reads (history kept, not left, not stalled, created at the
    /// relay), with the log read as far as the relay announced it and no read of the
    /// space waiting. Anything else (a gap, a position already read past, a generation
    /// it has not reached, log entries announced and not read yet: a roster change, a
    /// removal) is read the usual way, the log first, as for an announcement.
    pub(super) fn on_content_pushed(&mut self, pushed: ContentPushed) {
        let group = pushed.group;
        let Some(space) = self.spaces.get(&group) else { return };
        let position = pushed.seq.get();
        if position < space.meta.content_next {
            return; // already read
        }
        let reads_content = !space.meta.removed
            && !space.meta.stalled
            && space.meta.relay_created
            && space.meta_history_mode().is_ok_and(|mode| mode == HistoryMode::Keep);
        if !reads_content {
            return;
        }
        let log_read = self.requests.log_announced.get(&group).is_none_or(|latest| space.meta.next_seq > *latest);
        let read_waiting = self.requests.jobs.contains(&Job::Sync(group))
            || self.requests.in_flight.iter().any(|(_, step)| match step {
                Step::FetchLog { group: g } | Step::FetchContent { group: g } => *g == group,
                Step::FetchMany { reads } => reads.iter().any(|(g, _)| *g == group),
                _ => false,
            });
        let key_held = SealedRecord::from_bytes(pushed.sealed.as_bytes())
            .is_ok_and(|sealed| space.meta.history.key(sealed.generation).is_some());
        let record = ContentRecordBytes::new(pushed.sealed.as_bytes().to_vec()).map(|sealed| ContentRecord {
            seq: pushed.seq,
            record: pushed.record,
            sealed,
        });
        match record {
            Ok(record) if position == space.meta.content_next && key_held && log_read && !read_waiting => {
                let cursor = space.meta.content_next;
                if self.apply_content_records(group, &[&record]).is_err() {
                    // The store's writes are undone, and the cursor put back: the
                    // record is read again from the store.
                    self.rollback();
                    if let Some(space) = self.spaces.get_mut(&group) {
                        space.meta.content_next = cursor;
                    }
                    self.push_job(Job::Sync(group));
                }
            }
            _ => self.push_job(Job::Sync(group)),
        }
    }

    /// Applies records in the order given (the store's), each checked and applied at
    /// most once; a gap before one is the relay withholding records, and is warned of.
    fn apply_content_records(&mut self, group: GroupId, records: &[&ContentRecord]) -> Result<()> {
        for record in records.iter().copied() {
            let Some(space) = self.spaces.get_mut(&group) else { return Ok(()) };
            let position = record.seq.get();
            if position < space.meta.content_next {
                continue;
            }
            // Content records are never deleted: a gap is the relay withholding some.
            let skipped = (position > space.meta.content_next).then(|| (space.meta.content_next, position - 1));
            space.meta.content_next = position + 1;
            if let Some((first, last)) = skipped {
                self.warn(Some(group), SecurityWarning::ContentRecordsSkipped { first, last });
                // What this device never read keeps it from forgetting across it (again
                // after a rollback below, so that it stays).
                self.store.note_space_blocker(&group, first)?;
                self.store.note_space_blocker(&group, last)?;
            }
            // A record its author had the relay forget (a note's updates that a
            // compaction published since covers): the tombstone's key is the one whose
            // hash is the record's id, which only its author held. One that is not is
            // read as a record, and refused as one that does not open.
            if let Some(Ok(_)) =
                huisclos_protocol::messages::read_tombstone(&group, &record.record, record.sealed.as_bytes())
            {
                self.save_group(&group)?;
                self.persist()?;
                continue;
            }
            // A certificate a record carried, once the record's signatures verified:
            // kept even if the record is then refused for what it says or when it came
            // (its author's later records may refer to it, and resolving one gives no
            // authority: every check runs on the resolved record).
            let mut verified_certificate: Option<(DeviceCertificate, u32)> = None;
            let outcome = (|| -> Result<()> {
                let sealed = SealedRecord::from_bytes(record.sealed.as_bytes())?;
                let space = self.spaces.get(&group).ok_or(CoreError::NotFound(Missing::Space))?;
                let key = space
                    .meta
                    .history
                    .key(sealed.generation)
                    .ok_or(crate::history::RecordRefusal::UnknownGeneration.to_error())?;
                let opened = sealed.open(&key, &group, &record.record)?;
                if opened.id() != record.record {
                    return Err(CoreError::Verification(Unverified::WrongPlace));
                }
                let carried = matches!(opened, OpenedRecord::Carried(_));
                let id = opened.id();
                let envelope = match opened.resolve(|reference| self.certificate_for(&group, reference)) {
                    // Read again (after a grant, from the start): what was applied once
                    // stays, even if the certificate it was resolved with then (a leaf
                    // since gone) is not at hand now.
                    Err(CoreError::Verification(Unverified::UnknownAuthor))
                        if self.store.was_applied(&group, &id)? =>
                    {
                        return Ok(());
                    }
                    resolved => resolved?,
                };
                envelope.verify(&group)?;
                // Only a note's update may be forgotten (its id of the form that lets
                // its author have the relay forget it): any other record of that form
                // is refused, so that no device that reads later misses it.
                if record.record.is_forgettable() && !matches!(envelope.signed.body, ContentBody::NoteEdit(_)) {
                    return Err(CoreError::Verification(Unverified::WrongPlace));
                }
                if carried {
                    verified_certificate = Some((envelope.signed.author.clone(), sealed.generation));
                }
                // Who may have sealed it: a device on its generation's roster (a member
                // now, for the current generation), and never after a later
                // generation's records.
                let author = &envelope.signed.author.body;
                // The device is in the group now (its MLS key signs its leaf; whose it
                // is, the roster check below says, across a change of identity key).
                let member_now = space.group.members().any(|m| m.signature_key.as_slice() == author.mls_key);
                let space = self.spaces.get_mut(&group).ok_or(CoreError::NotFound(Missing::Space))?;
                let standing = space
                    .meta
                    .history
                    .admit_record(sealed.generation, &author.identity, &author.mls_key, member_now)
                    .map_err(crate::history::RecordRefusal::to_error)?;
                if let ContentBody::Marker(marker) = &envelope.signed.body
                    && marker.generation != sealed.generation
                {
                    return Err(CoreError::Verification(Unverified::WrongPlace));
                }
                self.reading_position = Some(position);
                let applied = self.apply_envelope(&group, &envelope, None, Some(standing));
                self.reading_position = None;
                applied
            })();
            if outcome.is_err() {
                self.rollback();
            }
            if let Some((certificate, generation)) = &verified_certificate {
                // Later records of the space may refer to it; this device's own may
                // once the store holds one carrying it in their generation. Written
                // after the rollback of a refused record, so that it stays.
                self.store.keep_space_certificate(&group, certificate, *generation)?;
            }
            if let Some((first, last)) = skipped {
                self.store.note_space_blocker(&group, first)?;
                self.store.note_space_blocker(&group, last)?;
            }
            if let Err(error) = outcome {
                self.reject(Some(group), Rejection::ContentRecord { seq: record.seq.get(), fault: error.fault() });
                // A record refused here may be another device's update that a device
                // reading later takes: none of this device's records before it is
                // forgotten in favour of a compaction after it. Written after the
                // rollback, so that it stays.
                self.store.note_space_blocker(&group, position)?;
            }
            self.save_group(&group)?;
            self.persist()?;
        }
        // Read as far as a compaction of this device's: what it covers may go.
        self.release_forgets(&group)?;
        self.persist()
    }

    /// The certificate a record of the space refers to: one an earlier record of the
    /// space carried, a current member's (from its leaf), or this device's own.
    fn certificate_for(&self, group: &GroupId, reference: &CertificateRef) -> Option<DeviceCertificate> {
        if let Ok(Some(certificate)) = self.store.space_certificate(group, reference) {
            return Some(certificate);
        }
        if let Some(own) = &self.certificate
            && CertificateRef::of(own) == *reference
        {
            return Some(own.clone());
        }
        let space = self.spaces.get(group)?;
        space.group.members().find_map(|member| {
            let certificate = crate::mls::certificate_of(&member.credential, &member.signature_key).ok()?;
            (CertificateRef::of(&certificate) == *reference).then_some(certificate)
        })
    }

    /// Applies a verified item. `standing` says where the author of a sealed record
    /// stands in its generation (the role at its close, for a closed one); items from
    /// MLS messages and this device's own are judged by the current rules.
    pub(super) fn apply_envelope(
        &mut self,
        group: &GroupId,
        envelope: &ContentEnvelope,
        mls_sender: Option<&DeviceCertificate>,
        standing: Option<Standing>,
    ) -> Result<()> {
        envelope.verify(group)?;
        let author = &envelope.signed.author.body;
        // In the current generation, a device its person's newest roster no longer
        // lists (revoked) speaks for nobody. A record of a closed generation was
        // judged by that generation's roster, as it stood then.
        if !matches!(standing, Some(Standing::Closed(_))) && !self.device_allowed(author) {
            return Err(CoreError::Verification(Unverified::NotOnRoster));
        }
        if let Some(sender) = mls_sender
            && (sender.body.identity != author.identity || sender.body.mls_key != author.mls_key)
        {
            self.warn(Some(*group), SecurityWarning::AuthorNotSender);
            return Err(CoreError::Verification(Unverified::WrongSender));
        }
        let rules = self.rules(group)?;
        let role = match standing {
            Some(Standing::Closed(role)) => role,
            Some(Standing::Current) | None => rules.role_of(&author.identity),
        };
        let me = self.identity;
        let space = self.spaces.get_mut(group).ok_or(CoreError::NotFound(Missing::Space))?;
        if self.store.was_applied(group, &envelope.signed.id)? {
            return Ok(()); // a resend, or the same item by both paths
        }
        self.store.mark_applied(group, &envelope.signed.id)?;
        if let ContentBody::Marker(_) = &envelope.signed.body {
            // The start of a generation: it raised the content floor when admitted;
            // nothing is shown.
            return Ok(());
        }
        if let ContentBody::NoteEdit(edit) = &envelope.signed.body {
            if !role.may_contribute() {
                return Err(CoreError::Forbidden(Refusal::ReaderWrites));
            }
            return self.apply_note_edit(group, author, edit);
        }
        if let ContentBody::NoteVersion(version) = &envelope.signed.body {
            if !role.may_contribute() {
                return Err(CoreError::Forbidden(Refusal::ReaderWrites));
            }
            return self.apply_note_version(group, envelope, version);
        }
        if let ContentBody::FilePreview(preview) = &envelope.signed.body {
            if !role.may_contribute() {
                return Err(CoreError::Forbidden(Refusal::ReaderWrites));
            }
            return self.apply_file_preview(group, author, &envelope.signed.id, preview);
        }
        if let ContentBody::Library(op) = &envelope.signed.body {
            if !role.may_contribute() {
                return Err(CoreError::Forbidden(Refusal::ReaderWrites));
            }
            let stamp = Stamp {
                at: envelope.signed.created_at.get(),
                author: *author.identity.as_bytes(),
                op: *envelope.signed.id.as_bytes(),
            };
            let mut library = self.library(group)?;
            library.apply(stamp, op, self.now)?;
            self.store.put_library(group, &library)?;
            self.events.push_back(ClientEvent::LibraryChanged(*group));
            self.observed.library_changed(group);
            return Ok(());
        }
        let load = |store: &Store, id: &ContentId| store.feed_item(group, id);
        let moderator = ModeratorRecord { identity: *author.identity.as_bytes(), name: author.name.to_string() };
        let (target, mut item) = match &envelope.signed.body {
            ContentBody::Post(Post { text }) | ContentBody::Comment(Comment { text, .. }) => {
                if !role.may_contribute() {
                    return Err(CoreError::Forbidden(Refusal::ReaderWrites));
                }
                let parent = match &envelope.signed.body {
                    ContentBody::Comment(comment) => Some(*comment.parent.as_bytes()),
                    _ => None,
                };
                let position = space.meta.feed_len;
                space.meta.feed_len += 1;
                let item = FeedRecord {
                    id: *envelope.signed.id.as_bytes(),
                    author: *author.identity.as_bytes(),
                    author_name: author.name.to_string(),
                    created_at: envelope.signed.created_at.get(),
                    parent,
                    text: text.as_str().to_owned(),
                    edited: false,
                    deleted: false,
                    reactions: BTreeMap::new(),
                    position,
                    moderated_by: None,
                };
                self.store.put_feed_position(group, position, &envelope.signed.id)?;
                (envelope.signed.id, item)
            }
            ContentBody::React(React { target, reaction, on }) => {
                if !role.may_contribute() {
                    return Err(CoreError::Forbidden(Refusal::ReaderWrites));
                }
                let mut item = load(&self.store, target)?.ok_or(CoreError::NotFound(Missing::Item))?;
                let who = item.reactions.entry(reaction.as_str().to_owned()).or_default();
                if *on {
                    who.insert(*author.identity.as_bytes());
                } else {
                    who.remove(author.identity.as_bytes());
                }
                item.reactions.retain(|_, who| !who.is_empty());
                (*target, item)
            }
            ContentBody::Edit(Edit { target, text }) => {
                let mut item = load(&self.store, target)?.ok_or(CoreError::NotFound(Missing::Item))?;
                let by_author = item.author == *author.identity.as_bytes();
                if !by_author && !role.may_manage_content() {
                    return Err(CoreError::Forbidden(Refusal::NotAuthorOrContentManager));
                }
                if !item.deleted {
                    // A content manager's text is theirs: it is never shown as the
                    // author's words.
                    item.text = text.as_str().to_owned();
                    item.edited = true;
                    item.moderated_by = (!by_author).then_some(moderator);
                }
                (*target, item)
            }
            ContentBody::Delete(Delete { target }) => {
                let mut item = load(&self.store, target)?.ok_or(CoreError::NotFound(Missing::Item))?;
                let by_author = item.author == *author.identity.as_bytes();
                if !by_author && !role.may_manage_content() {
                    return Err(CoreError::Forbidden(Refusal::NotAuthorOrContentManager));
                }
                item.deleted = true;
                item.text.clear();
                item.moderated_by = (!by_author).then_some(moderator);
                (*target, item)
            }
            ContentBody::Library(_)
            | ContentBody::Marker(_)
            | ContentBody::NoteEdit(_)
            | ContentBody::NoteVersion(_)
            | ContentBody::FilePreview(_) => {
                return Err(CoreError::Invalid(InvalidInput::UnsupportedOperation));
            }
        };
        let mut notify = None;
        if author.identity != me {
            if let Some(space) = self.spaces.get_mut(group) {
                space.meta.unread = space.meta.unread.saturating_add(1);
                // What the first read after joining brings is history, not news.
                if space.meta.caught_up {
                    let mine = |store: &Store, id: &ContentId| -> Result<bool> {
                        Ok(load(store, id)?.is_some_and(|i| i.author == *me.as_bytes()))
                    };
                    notify = match &envelope.signed.body {
                        ContentBody::Post(_) if !space.meta.muted => Some(NotificationKind::Post),
                        ContentBody::Comment(comment) if mine(&self.store, &comment.parent)? => {
                            Some(NotificationKind::Reply)
                        }
                        ContentBody::React(react) if react.on && item.author == *me.as_bytes() => {
                            Some(NotificationKind::Reaction)
                        }
                        _ => None,
                    };
                }
            }
        }
        item.id = *target.as_bytes();
        self.store.put_feed_item(group, &item)?;
        self.events.push_back(ClientEvent::Content { space: *group, item: target });
        self.observed.item_changed(group, target);
        if let Some(kind) = notify {
            let from = author.name.to_string();
            self.events.push_back(ClientEvent::Notify { space: *group, item: target, kind, from });
        }
        Ok(())
    }
}
