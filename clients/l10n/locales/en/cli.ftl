# What the command-line client `huisclos` says. Command names, options and the words a
# person types (yes, WIPE, policy names on the command line) stay as written here in
# every language: they are part of the command, and scripts type them.

## What it says

cli-profile-created = Profile created in { $dir }. Join a relay next: huisclos join INVITATION
cli-joined = Joined the relay; account { $account }.
cli-queued = Saved; it will be sent at the next sync.
cli-offline = Offline ({ $why }); everything stays queued for the next sync.
cli-sync-done = Up to date: { $spaces ->
        [one] { $spaces } space
       *[other] { $spaces } spaces
    }, { $outbox ->
        [one] { $outbox } item waiting to be sent.
       *[other] { $outbox } items waiting to be sent.
    }
cli-space-created = Space "{ $name }" created ({ $id }).
cli-invited = Invitation for { $name } queued.
cli-item-queued = Item { $id } saved.
cli-nothing-here = Nothing here yet.
cli-link-offer-shown = Show this offer to the new device (huisclos init --name NAME --link OFFER there), then approve its request here with: huisclos devices approve REQUEST
cli-link-request-shown = Approve this request on your existing device (huisclos devices approve REQUEST). Both devices show the confirmation code { $code }.
cli-link-confirm = Link the device "{ $name }" with confirmation code { $code }? Type yes to approve:
cli-link-approved = Device "{ $name }" approved; it receives your identity now.
cli-link-declined = Not approved; nothing was sent.
cli-link-waiting = Waiting for the approval…
cli-linked = This device is now linked to { $name }'s identity.
cli-watching = Watching for new events (Ctrl-C to stop)…
cli-verified = { $name } is marked verified.
cli-key-accepted = The new identity key of { $name } is accepted (unverified: compare safety numbers).
cli-safety-number = Safety number with { $name } (compare it with theirs, in person or by a trusted call):
cli-request-sent = Request to join "{ $space }" sent; you join once it is approved.
cli-duress-set = Duress passphrase set. Given instead of yours, it destroys this profile and opens the decoy made now.
cli-delete-keeps-relay-copy = Note: the item is deleted from members' feeds, not from the relay, where it stays sealed and readable by every member.
cli-identity-key-replaced = Your identity key was replaced; your contacts are told, and should compare safety numbers with you again. Write down your new recovery words: huisclos recovery-words
cli-device-revoked = Device "{ $name }" revoked: the relay refuses it, and it is removed from your spaces.
cli-wipe-confirm = This destroys the profile for good: nothing in it can be read again. Type WIPE to go on:
cli-wipe-declined = Nothing was wiped.
cli-wiped = The profile is destroyed.
cli-recovered = Identity { $identity } restored on this new device. Join the relay with a new invitation (huisclos join INVITATION), then hand your contact card (huisclos whoami) to a manager of each of your spaces: they re-admit you with huisclos space readmit.
cli-recovery-words-confirm = Anyone who reads these words can become you. Make sure no one and no camera sees the screen. Show them? Type yes:
cli-recovery-words-shown = Write these 24 words on paper, in order, and keep them away from this device. With a new invitation they restore your identity on a new device (huisclos init --recover).
cli-readmitted = { $name } will be re-admitted: their old devices removed, their new one added.
cli-done = Done.

## Hints after an event: the command that answers it

cli-hint-accept-invitation = Accept with: huisclos space accept { $id }
cli-hint-decide-request = Decide with: huisclos space requests { $id }
cli-hint-accept-key = Then run: huisclos accept-key { $name }

## Why a command cannot be done as typed

cli-problem-not-an-invitation = not an invitation: { $error }
cli-problem-note-path = give a note's path
cli-problem-not-a-note = { $path } is not a note
cli-problem-editor-failed = the editor did not finish: the note is unchanged
cli-problem-top-does-not-move = the top of the library does not move
cli-problem-no-item-at = no item at { $path }
cli-problem-no-such-version = { $count ->
    [0] no version of this note starts with "{ $typed }" (see note-log)
   *[other] { $count } versions start with "{ $typed }": type more of the id
}
cli-problem-top-not-trashed = the top of the library is not trashed
cli-problem-trashed-path = give a trashed item's path
cli-problem-no-usable-file-name = { $path } has no usable file name
cli-problem-is-a-note = { $path } is a note, not a file
cli-problem-file-path = give a file's path
cli-problem-devices-match = { $count ->
        [one] { $count } of your other devices matches "{ $typed }": use the id from huisclos devices list
       *[other] { $count } of your other devices match "{ $typed }": use the id from huisclos devices list
    }
cli-problem-not-approved-in-time = not approved in time; run the same command again to keep waiting
cli-problem-no-recovery-words = no recovery words given: type them when asked, or set { $var } in scripts
cli-problem-link-without-engine = the link finished, but the device is not ready: run it again
cli-problem-no-match = { $what ->
        [space] no space matches "{ $typed }"
        [person] no person matches "{ $typed }"
        [device] no device matches "{ $typed }"
       *[item] no item matches "{ $typed }"
    }
cli-problem-many-match = { $what ->
        [space] { $count } spaces match "{ $typed }": type more of the id
        [person] { $count } people match "{ $typed }": type more of the id
        [device] { $count } devices match "{ $typed }": type more of the id
       *[item] { $count } items match "{ $typed }": type more of the id
    }
cli-problem-not-an-item-id = "{ $typed }" is not an item id (at least 4 hex digits)
cli-problem-path-ends-with-name = a path ends with a name
cli-problem-no-profile-directory = no profile directory: pass --profile DIR or set HUISCLOS_PROFILE
cli-problem-not-utf8 = { $var } is not valid UTF-8
cli-problem-no-passphrase = no passphrase: type it on a terminal or set { $var }
cli-problem-no-duress-passphrase = no duress passphrase: type it or set { $var }
cli-problem-passphrases-differ = the two passphrases differ; nothing was changed
cli-problem-passphrase-too-weak = this passphrase is too short or too easy to guess: use at least { $min } characters, several unrelated words. Six random words are strong, for example: { $suggestion }
cli-problem-profile-exists = a profile already exists in { $dir }
cli-problem-no-profile-in = no profile in { $dir }: create one with huisclos init --name NAME
cli-problem-waits-to-be-linked = this device waits to be linked: run huisclos init --link again to finish, once approved
cli-problem-no-relay = this profile has joined no relay: run huisclos join INVITATION
cli-problem-unknown-policy = unknown policy "{ $typed }": use open, on-request or confidential
cli-problem-unknown-language = unknown language "{ $typed }": use en, fr, de, ar or pt

## What it asks

cli-prompt-passphrase = Passphrase:
cli-prompt-new-passphrase = New passphrase:
cli-prompt-same-passphrase = Same passphrase again:
cli-prompt-duress-passphrase = Duress passphrase:
cli-prompt-same-duress-passphrase = Same duress passphrase again:
cli-prompt-recovery-words = Your 24 recovery words, separated by spaces:

## Words of its listings

cli-word-name = name:
cli-word-identity = identity:
cli-word-account = account:
cli-word-device = device:
cli-word-card = card:
cli-word-key-changed = KEY CHANGED
cli-word-verified = verified
cli-word-not-verified = not verified
cli-word-unread = { $count } unread
cli-word-left = left
cli-word-stalled = stalled
cli-word-muted = muted
cli-word-your-role = you: { $role }
cli-word-edited = (edited)
cli-word-replaced-by = (text replaced by { $name }, content manager)
cli-word-removed-by = (removed by { $name }, content manager)
cli-word-deleted = (deleted)
cli-word-this-device = (this device)
cli-word-folder = folder
cli-word-file = file
cli-word-note = note
cli-word-file-size = { $bytes } bytes, { $versions ->
        [one] { $versions } version
       *[other] { $versions } versions
    }
cli-word-devices = { $count ->
        [one] { $count } device
       *[other] { $count } devices
    }
cli-word-security = SECURITY:
cli-word-refused = refused:
