# What the core's typed errors, reasons and events say, shared by every client (the
# CLI, the desktop app, the phone apps through the FFI). Message ids follow the Rust
# enums: `missing-<variant>`, `refusal-<variant>`, and so on. Names of people and
# spaces arrive as variables; Fluent isolates them so that a Latin name in an Arabic
# sentence (or the reverse) keeps its own direction.

## Errors

error-wrong-passphrase = wrong passphrase: this profile does not open with it
error-no-profile = no profile at { $dir }
error-profile-exists = a profile already exists at { $dir }
error-corrupt-profile = the profile is damaged ({ $detail })
error-store-tampered = a stored value failed authentication: the disk was tampered with or damaged
error-store = the local store failed: { $detail }
error-io = a file could not be read or written: { $detail }
error-verification = verification failed: { $reason }
error-forbidden = not allowed: { $reason }
error-identity-changed = the identity key of { $name } changed: compare safety numbers, then accept the new key
error-space-stalled = the space is stalled: a space manager recreates it
error-not-found = not found: { $what }
error-invalid = invalid input: { $reason }
error-mls = the group's encryption refused it ({ $detail })
error-decode = malformed data: { $detail }
error-relay = the relay refused: { $reason }
error-transport = connection: { $detail }
error-relay-key-not-pinned = the relay presented a key this profile does not trust. If its operator replaced the relay's key while this device was offline, ask them for a new invitation; otherwise another server answers at the relay's address
error-recovery-words = recovery words: { $reason }
error-closed = the client is shut down
error-other = something went wrong: { $detail }

## What is not found

missing-space = space
missing-certificate = certificate
missing-relay = relay: join one with an invitation
missing-roster = list of devices
missing-account = account: join a relay with an invitation
missing-join-request = request to join
missing-own-leaf = this device's place in the space
missing-item = item
missing-member = member
missing-note = note
missing-file = file or version
missing-own-device = device
missing-pending-device = device waiting for approval
missing-observed-list = observed list
missing-invitation = invitation
missing-grant = grant of history keys
missing-contact = contact
missing-identity-change = changed identity key
missing-other = something

## Why a space's rules refuse

refusal-reader-writes = readers do not post, comment, react or change the library
refusal-not-author-or-content-manager = only the author or a content manager may change this item
refusal-not-the-versions-author = only whoever uploaded a file's version sends its preview
refusal-last-manager-leaving = the last space manager names another before leaving
refusal-generations-exhausted = the space has had as many generations as a space may have
refusal-no-longer-in-space = this device is no longer in the space
refusal-confidential-space = a confidential space takes no requests to join
refusal-requests-closed = the space no longer takes requests to join
refusal-device-approval-required = in this space a space manager approves every new device
refusal-only-own-devices = only a person's own devices are added this way
refusal-no-identity-key = only the device that holds the identity key does this
refusal-fixed-history-mode = a change to the history mode, which is fixed when the space is created
refusal-fixed-continues = a change to the space it continues, which is fixed when the space is created
refusal-context-incomplete = the group context lacks the space's rules, ledger or requirements
refusal-unknown-extension = the group context holds an extension spaces do not use
refusal-ledger-mismatch = the change's history ledger differs from the members' history
refusal-ledger-dropped = the change drops the space's history ledger
refusal-departing-role-kept = the change keeps the role of someone it takes out of the space
refusal-unknown-change = a kind of change spaces do not use
refusal-identity-changed-in-update = a member's update changes who they are
refusal-device-not-on-roster = a device its person's list of devices does not name
refusal-other = the space's rules do not allow it

refusal-manager-invite = only a space manager may invite to this space
refusal-manager-add-people = only a space manager may add people to this space
refusal-manager-admit = only a space manager may admit people to this space
refusal-manager-readmit = only a space manager may re-admit people
refusal-manager-remove = only a space manager may remove people
refusal-manager-rename = only a space manager may rename the space
refusal-manager-describe = only a space manager may describe the space
refusal-manager-change-rules = only a space manager may change the space's rules
refusal-manager-change-roles = only a space manager may change roles
refusal-manager-device-approval = only a space manager may decide how devices join
refusal-manager-add-others-device = only a space manager may add a device to someone else
refusal-manager-recreate = only a space manager may recreate a space
refusal-manager-add-recreated-members = only a space manager may add the members of a recreated space
refusal-manager-hand-out-card = only a space manager may hand out this space's card
refusal-manager-other = only a space manager may do this

## What did not verify

unverified-signature-device-certificate = the signature of a device certificate does not verify
unverified-signature-content = the signature of an item does not verify
unverified-signature-presence = the signature of a presence message does not verify
unverified-signature-contact-card = the signature of a contact card does not verify
unverified-signature-space-card = the signature of a space card does not verify
unverified-signature-link-request = the signature of a link request does not verify
unverified-signature-join-request = the signature of a request to join does not verify
unverified-signature-identity-transition = the signature of an identity transition does not verify
unverified-signature-device-ready = the signature of a device-ready notice does not verify
unverified-signature-other = a signature does not verify
unverified-invalid-key = a key that is not valid
unverified-wrong-sender = sent by someone else than it claims
unverified-not-on-roster = from a device its person's list of devices does not name
unverified-unknown-author = by an author whose certificate this device does not hold
unverified-wrong-person = of another person or device than it claims
unverified-wrong-place = meant for somewhere else
unverified-does-not-open = sealed, and does not open here
unverified-malformed = malformed
unverified-stale = dated outside the time allowed
unverified-replay = already taken once (a replay)
unverified-history = history keys that do not match the space's ledger
unverified-chunk = a piece of a file that does not fit its file
unverified-no-link-offer = no link offer is open on this device
unverified-link-secret-missing = a link request made without the offer's secret
unverified-not-a-link-offer = not a link offer
unverified-not-a-link-request = not a link request
unverified-outdated-card = a contact card older than the person's newest list of devices: ask them for a new one
unverified-note-update = a note update that is malformed, too large, or inserts text in another device's name
unverified-record-unknown-generation = an item sealed under a history key this device does not hold
unverified-record-after-its-generation = an item sealed under a generation that had already ended
unverified-record-not-a-member = an item whose author's device was not a member while its generation was current
unverified-other = it does not verify

## Input out of bounds, or a call that makes no sense now

invalid-text-display-name = { $may_be_empty ->
    [false] a display name is not empty, has at most { $max } bytes and no control characters
   *[true] a display name has at most { $max } bytes and no control characters
}
invalid-text-space-name = { $may_be_empty ->
    [false] a space name is not empty, has at most { $max } bytes and no control characters
   *[true] a space name has at most { $max } bytes and no control characters
}
invalid-text-space-description = { $may_be_empty ->
    [false] a space description is not empty, has at most { $max } bytes and no control characters
   *[true] a space description has at most { $max } bytes and no control characters
}
invalid-text-node-name = { $may_be_empty ->
    [false] a name is not empty, has at most { $max } bytes and no control characters
   *[true] a name has at most { $max } bytes and no control characters
}
invalid-text-note = { $may_be_empty ->
    [false] a note is not empty, has at most { $max } bytes and no control characters
   *[true] a note has at most { $max } bytes and no control characters
}
invalid-text-text = { $may_be_empty ->
    [false] a text is not empty, has at most { $max } bytes and no control characters
   *[true] a text has at most { $max } bytes and no control characters
}
invalid-text-reaction = { $may_be_empty ->
    [false] a reaction is not empty, has at most { $max } bytes and no control characters
   *[true] a reaction has at most { $max } bytes and no control characters
}
invalid-text-join-note = { $may_be_empty ->
    [false] a note to the space's managers is not empty, has at most { $max } bytes and no control characters
   *[true] a note to the space's managers has at most { $max } bytes and no control characters
}
invalid-text-other = { $may_be_empty ->
    [false] a text is not empty, has at most { $max } bytes and no control characters
   *[true] a text has at most { $max } bytes and no control characters
}
invalid-too-many-file-bytes = a file has at most { $max } bytes
invalid-too-many-library-items = a library holds at most { $max } items
invalid-too-many-file-versions = a file has at most { $max } versions
invalid-too-many-explicit-roles = a space gives at most { $max } people an explicit role
invalid-too-many-observed-lists = at most { $max } lists are observed at once
invalid-too-many-pending-join-requests = at most { $max } requests to join wait for an answer
invalid-too-many-devices = a person has at most { $max } devices
invalid-too-many-contacts = the contact book holds at most { $max } people
invalid-too-many-history-generations = a history grant holds at most { $max } generations
invalid-too-many-sealed-bytes = at most { $max } bytes are sealed at once
invalid-too-many-note-length = a note has at most { $max } characters
invalid-too-many-note-versions = a note keeps at most { $max } named versions
invalid-too-many-chunk-offset = a file's piece starts at most at byte { $max }
invalid-too-many-other = at most { $max }
invalid-not-text-contact-card = not a valid contact card: check that it was copied whole
invalid-not-text-space-card = not a valid space card: check that it was copied whole
invalid-not-text-verification-code = not a valid verification code: check that it was copied whole
invalid-not-text-other = not valid: check that it was copied whole
invalid-unknown-role = unknown role: use reader, contributor, content-manager or space-manager
invalid-passphrase-too-short = a passphrase has at least { $min } characters
invalid-passphrase-too-weak = the passphrase is too easy to guess: use several unrelated words (six random words are strong)
invalid-passphrase-too-long = the passphrase is too long
invalid-kdf-params = the key derivation's parameters are out of bounds
invalid-duress-same-as-passphrase = the duress passphrase must differ from the profile's
invalid-no-duress-in-memory = a profile in memory has no duress passphrase
invalid-unexpected-answer = the relay answered with the wrong kind of response
invalid-own-signer-mismatch = something this device made does not match its own keys
invalid-sealing-failed = sealing failed
invalid-sealed-record-malformed = a sealed record that is not one
invalid-nothing-to-readmit = that card shows no new device of one person to re-admit
invalid-readmit-self = a person re-admits someone else, not themself
invalid-awaiting-history = this device waits for the space's history
invalid-not-stalled = only a stalled space is recreated
invalid-already-recreated = the space was already recreated
invalid-already-member = already in that space
invalid-not-in-space = the device is no longer in the space
invalid-item-too-large = an item has at most about { $max_kib } KiB
invalid-not-a-welcome = an inbox item is not an invitation
invalid-space-from-older-release = a space from an older release: ask its manager to recreate it
invalid-unsupported-operation = an operation spaces do not use
invalid-not-a-key-package = not a key package
invalid-already-moved = this device already moved to its new identity here
invalid-revoke-self = a device does not revoke itself: use the panic wipe
invalid-already-linked = that device is already linked
invalid-already-has-account = this profile already has an account at a relay
invalid-manifest-mismatch = a file's description whose pieces do not match its length
invalid-file-changed = the file is longer than its announced length
invalid-image-metadata-unsupported = { $format } images cannot have their metadata (such as where the photo was taken) removed: convert it to JPEG or PNG, or upload it keeping its metadata
invalid-image-metadata-malformed = this { $format } image is damaged, so its metadata (such as where the photo was taken) cannot be removed safely: convert it to JPEG or PNG, or upload it keeping its metadata
invalid-image-metadata-too-large = this { $format } image is too large to have its metadata (such as where the photo was taken) removed: make it smaller, or upload it keeping its metadata
invalid-no-recipient = a notice for no device
invalid-no-recovery-words = an identity key has no recovery words
invalid-rules-malformed = space rules that are not well formed
invalid-other = not valid here

## Recovery words

recovery-wrong-count = { $expected } words expected, { $given } given
recovery-unknown-word = word { $position } is not on the list
recovery-mismatch = they do not fit together (a word mistyped or out of order?)
recovery-not-a-set = not a valid set
recovery-other = they are not valid

## What the relay said

relay-bad-request = bad request
relay-unsupported-version = unsupported protocol version; the relay speaks version { $supported }
relay-auth-required = authenticate first
relay-auth-failed = authentication failed
relay-invitation-invalid = invitation invalid, used or expired
relay-forbidden = access to the group refused
relay-not-found = not found
relay-conflict = conflicts with what is stored
relay-stale-epoch = the group has moved on (epoch { $current })
relay-quota-exceeded = storage full: { $used } of { $quota } bytes used
relay-limit-exceeded = a limit of the relay is reached
relay-rate-limited = too many requests; retry in { $seconds } s
relay-internal = the relay failed
relay-other = the relay refused

## The kind of failure an event carries

fault-unverified = verification failed: { $reason }
fault-forbidden = not allowed: { $reason }
fault-not-found = not found: { $what }
fault-relay = the relay refused: { $reason }
fault-malformed = malformed data
fault-mls = the group's encryption refused it
fault-invalid = invalid input: { $reason }
fault-space-stalled = the space is stalled
fault-identity-changed = an identity key changed
fault-store = the local store failed
fault-connection = the connection failed
fault-other = an internal failure

## Refused and dropped work

rejection-step-failed = a step failed: { $reason }
rejection-sign-in-failed = could not sign in: { $reason }
rejection-request-not-prepared = could not prepare a request: { $reason }
rejection-invitation-refused = an invitation was refused: { $reason }
rejection-log-entry = log entry { $position } refused: { $reason }
rejection-content-record = content record { $seq } refused: { $reason }
rejection-no-usable-key-package = the invitation failed: none of the person's devices has a usable key package
rejection-delivery-failed = an invitation could not be delivered to one device: { $reason }
rejection-join-request-undelivered = the request to join could not be delivered: { $reason }
rejection-upload-dropped = an upload was dropped: this device can no longer write in the space
rejection-download-dropped = a download was dropped: this device is no longer in the space
rejection-unsent-item-dropped = an unsent item was dropped: this device is no longer in the space
rejection-operation-dropped = an operation was dropped: { $reason }
rejection-other = something was refused

## Security warnings

warning-revoked-by-new-identity = this person's identity key was replaced, and this device was left out: it was revoked
warning-revoked-by-own-device = another device of this person revoked this device
warning-conflicting-rosters = two different device lists of one person under the same version: their identity key may be in other hands
warning-commits-withheld = the relay says this space moved on but serves no change that leads there: it may be withholding the space's changes from this device
warning-log-access-refused = the relay refused this device's access to the space's log
warning-log-entries-skipped = the relay skipped log entries { $first } to { $last }: messages may have been withheld
warning-content-records-skipped = the relay skipped content records { $first } to { $last }: items may have been withheld
warning-history-grant-refused = { $from } handed this device a history that does not match the space's ledger ({ $reason }); it was refused
warning-stalled-by = { $by } made a change their role does not allow ({ $reason }); it was refused, and the space is stalled until a space manager recreates it without them
warning-stalled = a change no device can apply was accepted by the relay ({ $reason }); the space is stalled until a space manager recreates it
warning-author-not-sender = an item claimed another author than its sender; it was refused
warning-note-contradicted = { $by } sent a second version of text they wrote in a note; this device keeps the first, but someone who reads the note later may see the second
warning-unasked-device = the relay answered a claim with a device that was not asked for
warning-foreign-key-package = the relay served a key package that is not the invited person's device: { $reason }
warning-other = something looks wrong

## Deliveries that wait

delay-quota-full = an invitation could not be delivered yet (this account's storage at the relay is full); it will be sent again
delay-inbox-full = an invitation could not be delivered yet (the invitee's inbox at the relay is full); it will be sent again
delay-other = a delivery waits; it will be sent again

## Roles, policies, history modes

role-reader = reader
role-contributor = contributor
role-content-manager = content manager
role-space-manager = space manager
policy-open = open
policy-on-request = on request
policy-confidential = confidential
history-keep = history kept
history-none = no history

## Events

event-account-created = Account created.
event-invited = { $by } invited you to "{ $space }".
event-joined = You are in "{ $space }".
event-removed = You are no longer in "{ $space }".
event-recreated = "{ $space }" was recreated without the member who stalled it; it continues as { $successor }.
event-uploaded = A file of { $bytes } bytes is uploaded to "{ $space }".
event-downloaded = A file of { $bytes } bytes is downloaded from "{ $space }".
event-library-changed = The library of "{ $space }" changed.
event-note-changed = A note in "{ $space }" changed.
event-note-version-named = A version of a note in "{ $space }" was named.
event-notify-post = { $from } posted in "{ $space }"
event-notify-reply = { $from } answered you in "{ $space }"
event-notify-reaction = { $from } reacted to your item in "{ $space }"
event-join-admitted = { $name } ({ $identity }) asked to join "{ $space }" and was admitted.
event-join-requested = { $name } ({ $identity }) asks to join "{ $space }".
event-identity-changed = { $was_verified ->
    [true] SECURITY: the identity key of { $name } changed ({ $previous } -> { $current }); the old key was verified. Nothing is done with the new key until you compare safety numbers and accept it.
   *[false] SECURITY: the identity key of { $name } changed ({ $previous } -> { $current }). Nothing is done with the new key until you compare safety numbers and accept it.
}
event-device-added = A new device of { $name } ({ $device }) joined "{ $space }": it reads everything there from now on.
event-identity-rotated = SECURITY: { $name } replaced their identity key ({ $previous } -> { $current }), with a transition signed by the old key. Compare safety numbers with them again before trusting it.
event-delivery-waiting = In "{ $space }": { $reason }.
event-rejected = refused: { $reason }
event-security-warning-in = SECURITY in "{ $space }": { $reason }
event-security-warning = SECURITY: { $reason }
