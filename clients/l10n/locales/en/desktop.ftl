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
