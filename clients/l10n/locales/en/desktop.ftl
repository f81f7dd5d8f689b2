# What the desktop app's screens say. The names of people and spaces are variables;
# Fluent isolates them, and the screens put user content in elements of its own
# direction (dir="auto").

## First run and unlocking

desktop-welcome-title = Welcome to Huis Clos
desktop-welcome-intro = An end-to-end encrypted place for your network. What you write is sealed on this computer before it leaves, and only the members of a space can read it.
desktop-create-heading = Create your profile
desktop-name-label = Your name, as others see it
desktop-passphrase-label = Passphrase
desktop-passphrase-again-label = The same passphrase again
desktop-passphrases-differ = The two passphrases differ.
desktop-passphrase-strength = Strength: { $strength ->
    [0] very weak
    [1] weak
    [2] fair
    [3] strong
   *[4] very strong
}
desktop-passphrase-rule = At least { $min } characters, several unrelated words.
desktop-suggest-button = Suggest a strong passphrase
desktop-create-button = Create the profile
desktop-unlock-heading = Unlock your profile
desktop-unlock-button = Unlock
desktop-join-heading = Join your network's relay
desktop-join-intro = Paste the invitation the relay's operator gave you.
desktop-invitation-label = Invitation
desktop-join-button = Join

## The window

desktop-nav-label = Main navigation
desktop-spaces-heading = Spaces
desktop-no-spaces = No spaces yet. Create one, or wait for an invitation.
desktop-unread = { $count ->
    [one] { $count } unread item
   *[other] { $count } unread items
}
desktop-new-space-button = New space
desktop-card-button = My contact card
desktop-settings-button = Settings
desktop-sync-button = Sync now
desktop-connection-online = Connected
desktop-connection-offline = Offline: what you write waits to be sent
desktop-connection-via = Connected over { $transport }
desktop-connection-retrying = trying again in { $seconds } s
desktop-item-waiting = Waiting to be sent
desktop-waiting-to-send = { $count ->
    [one] { $count } item waiting to be sent
   *[other] { $count } items waiting to be sent
}
desktop-close-button = Close
desktop-cancel-button = Cancel

## A new space

desktop-new-space-heading = A new space
desktop-space-name-label = Name
desktop-space-description-label = Description (optional)
desktop-space-policy-label = Who may join
desktop-space-history-label = New members read what was written before they joined
desktop-create-space-button = Create the space

## Invitations

desktop-invitations-heading = Invitations
desktop-invitation = { $by } invites you to "{ $space }".
desktop-invitation-unknown = You are invited to "{ $space }".
desktop-accept-button = Accept

## A space

desktop-feed-heading = Feed
desktop-members-heading = Members
desktop-feed-empty = Nothing has been posted here yet.
desktop-composer-label = Write to the space
desktop-post-button = Post
desktop-comment-label = Your reply
desktop-comment-button = Reply
desktop-react-button = React with { $reaction }
desktop-edited = edited
desktop-deleted = This item was deleted.
desktop-load-more-button = Older posts
desktop-invite-heading = Invite someone
desktop-card-label = Their contact card
desktop-role-label = Role
desktop-invite-button = Invite
desktop-invite-sent = The invitation is on its way.
desktop-member-devices = { $count ->
    [one] { $count } device
   *[other] { $count } devices
}

## Your contact card

desktop-card-heading = Your contact card
desktop-card-help = Give this card to the person who will invite you to a space: they paste it in their app.

## Settings

desktop-settings-heading = Settings
desktop-language-label = Language
desktop-lock-button = Lock now
desktop-wipe-heading = Panic wipe
desktop-wipe-help = Destroys this profile on this computer at once: nothing in it can be read again.
desktop-wipe-confirm-label = Type WIPE to confirm
desktop-wipe-button = Wipe this profile
desktop-wiped = The profile is destroyed.

## What happened

desktop-security-heading = Security
desktop-refused-heading = Refused

## A space's sections

desktop-space-sections-label = Sections of this space
desktop-tab-feed = Feed
desktop-tab-library = Library
desktop-tab-members = Members

## Changing what was written

desktop-edit-button = Edit
desktop-edit-label = The new text
desktop-save-button = Save
desktop-delete-button = Delete
desktop-delete-confirm = Delete this for everyone?
desktop-edited-by-moderator = edited by a moderator
desktop-yes-button = Yes
desktop-no-button = No

## Members, requests to join, the space's card

desktop-you = (you)
desktop-role-of = Role of { $name }
desktop-role-changed = { $name } has a new role.
desktop-remove-button = Remove
desktop-remove-confirm = Remove { $name } from this space? They will read nothing written after this.
desktop-member-removed = { $name } was removed.
desktop-requests-heading = Requests to join
desktop-requests-empty = Nobody is waiting to join.
desktop-approve-button = Approve
desktop-decline-button = Decline
desktop-space-card-heading = This space's card
desktop-space-card-help = Someone who has this card can ask to join; a space manager decides.
desktop-show-card-button = Show the card
desktop-qr-alt = QR code of the card below
desktop-leave-heading = Leave this space
desktop-leave-button = Leave
desktop-leave-confirm = Leave "{ $space }"? You will need a new invitation to come back.

## The library

desktop-folder-path-label = Folder
desktop-library-top = Library
desktop-upload-button = Upload files
desktop-new-folder-button = New folder
desktop-new-note-button = New note
desktop-drop-hint = or drop files here
desktop-folder-name-label = Name of the folder
desktop-note-name-label = Name of the note
desktop-create-button-short = Create
desktop-folder-empty = This folder is empty.
desktop-kind-folder = folder
desktop-kind-file = file
desktop-kind-note = note
desktop-rename-button = Rename
desktop-rename-label = New name
desktop-trash-button = Move to trash
desktop-show-trash-button = Show the trash
desktop-hide-trash-button = Hide the trash
desktop-trash-heading = Trash
desktop-trash-empty = The trash is empty.
desktop-restore-button = Restore
desktop-download-button = Download
desktop-versions-button = Versions
desktop-preview-alt = Preview of { $name }
desktop-keep-metadata = Keep photos’ metadata
desktop-keep-metadata-warning = Photos you upload now keep where and when they were taken and with which camera: every member can read it. Only for evidence whose origin must show.
desktop-versions-count = { $count ->
    [one] { $count } version
   *[other] { $count } versions
}
desktop-version = Version { $number }
desktop-uploading = Uploading { $name }
desktop-downloading = Downloading { $name }
desktop-upload-done = Uploaded.
desktop-download-done = Saved in your downloads as { $name }.
desktop-file-too-large = { $name } is too large to upload from here (at most { $max }).

## A note

desktop-back-button = Back
desktop-preview-button = Preview
desktop-note-text-label = Text of the note, in Markdown
desktop-note-saved = Saved and sealed.
desktop-note-also-here = Also in this note: { $names }

## Devices and contacts

desktop-people-button = Devices and contacts
desktop-people-heading = Devices and contacts
desktop-devices-heading = Your devices
desktop-this-device = (this computer)
desktop-device-since = linked { $date }
desktop-revoke-button = Revoke
desktop-revoke-confirm = Revoke { $name }? It will read nothing written after this.
desktop-link-button = Link a new device
desktop-link-heading = Offer to a new device
desktop-link-help = On the new device, choose to link to an existing person and give it this offer. It then shows a request: paste it below.
desktop-link-request-label = The new device's request
desktop-link-check-button = Check the request
desktop-link-code-help = The new device shows a code. Approve only if it is this one:
desktop-link-approve-button = Approve this device
desktop-link-approved = { $name } is linked.
desktop-contacts-heading = Contacts
desktop-contacts-empty = No contacts yet: the people you share a space with appear here.
desktop-verified = verified
desktop-not-verified = not verified
desktop-key-changed = { $name }'s key changed. Compare safety numbers again before trusting it.
desktop-safety-number-button = Safety number
desktop-safety-number-help = Compare this number with { $name }, in person or by a call you trust. If it is the same, mark them verified.
desktop-mark-verified-button = Mark verified
desktop-accept-key-button = Accept the new key
desktop-accept-key-confirm = Accept { $name }'s new key? Do so only after comparing safety numbers.

## Locking

desktop-lock-after-label = Lock after this long without use
desktop-lock-never = Never
desktop-lock-after-minutes = { $count ->
    [one] { $count } minute
   *[other] { $count } minutes
}

## Recovery words and the duress passphrase

desktop-words-heading = Recovery words
desktop-words-intro = These 24 words are your identity. If this computer is lost, they bring you back on a new one. Write them on paper, in order, and keep the paper away from this computer.
desktop-words-warning = Whoever reads these words can become you. Never photograph them, never type them anywhere else.
desktop-words-written-button = I have written them down
desktop-words-check-heading = Check two of them
desktop-word-at-label = Word number { $position }
desktop-words-check-button = Check
desktop-words-show-again-button = Show the words again
desktop-words-wrong = That is not the word at that place. Look at your paper again.
desktop-words-settings-help = Type your passphrase to see your recovery words again.
desktop-words-show-button = Show the recovery words
desktop-words-hide-button = Hide the words
desktop-duress-heading = Duress passphrase
desktop-duress-help = If someone forces you to unlock this computer, type this passphrase instead of yours: your profile is destroyed without a trace and a harmless profile opens in its place.
desktop-duress-current-label = Your passphrase
desktop-duress-label = Duress passphrase
desktop-decoy-name-label = Name in the harmless profile (yours if empty)
desktop-decoy-invitation-label = An invitation to the relay for the harmless profile (optional)
desktop-duress-set = The duress passphrase is set.
desktop-duress-button = Set the duress passphrase

## Notifications

desktop-notifications-label = Notifications
desktop-notifications-off = None
desktop-notifications-without-content = Without content (only that something is new)
desktop-notifications-with-content = With the space, the name and the text
desktop-notifications-help = A notification can be read on the screen and is kept by the system, even when the app is locked.
desktop-notify-without-content = Something new in one of your spaces.
desktop-notify-post = { $name }: { $text }
desktop-notify-reply = { $name } answered you: { $text }
desktop-notify-reaction = { $name } reacted to what you wrote.

## QR images and asking to join

desktop-qr-open-button = Open a QR image
desktop-qr-not-an-image = This file is not an image the app can read (PNG, JPEG or GIF, at most 20 MB).
desktop-qr-none = No QR code could be read in this image.
desktop-ask-heading = Ask to join a space
desktop-space-card-label = The space's card
desktop-ask-note-label = A note for the space's managers (optional)
desktop-ask-button = Ask to join
desktop-asked = Your request is sent. The space appears here once you are let in.

## Linking this computer to an existing person

desktop-link-this-question = Already using Huis Clos on another device?
desktop-link-this-button = Link this computer to it
desktop-link-this-heading = Link this computer
desktop-link-this-intro = On your other device, open Devices and choose to link a new device. Paste the offer it shows here, or open a picture of its QR code.
desktop-link-offer-label = The offer from your other device
desktop-link-start-button = Ask to be linked
desktop-link-request-help = On your other device, paste this request (or scan its QR code) where it asks for the new device's request.
desktop-link-request-qr-alt = This computer's request, as a QR code
desktop-link-request-shown-label = This computer's request
desktop-link-code-compare = Your other device then shows a code. Approve there only if it is this one:
desktop-link-waiting = Waiting for the approval…
desktop-link-cancel-button = Give up linking
desktop-link-cancel-confirm = Give up linking this computer? What it prepared is destroyed, and you can start again.

## Opening with the OS keychain

desktop-protection-label = How this profile is opened
desktop-protection-passphrase = With a passphrase I type each time
desktop-protection-keychain = With this computer's keychain, without a passphrase
desktop-protection-keychain-warning = Anyone who can open your session on this computer can then open Huis Clos, and no duress passphrase is possible. Choose a passphrase if the computer may be seized.
desktop-unlock-keychain-help = This profile is opened with this computer's keychain.
desktop-duress-needs-passphrase = A duress passphrase needs a profile opened with a passphrase; this one is opened with the keychain.

## Comparing by QR codes

desktop-verify-qr-help = Or compare by QR codes: { $name } scans yours, and you open a picture of theirs.
desktop-verify-qr-alt = Your code for { $name } to scan
desktop-verify-scan-button = Open a picture of { $name }'s code
desktop-verify-match = The codes match: { $name } is verified.
desktop-verify-mismatch = The codes do not match. Do not trust this contact until you know why: someone may be in between, or { $name }'s key changed.
