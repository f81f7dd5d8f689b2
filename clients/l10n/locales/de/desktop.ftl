# Was die Bildschirme der Desktop-App sagen. Die Namen von Personen und Räumen sind Variablen;
# Fluent isoliert sie, und die Bildschirme setzen Inhalte von Nutzer·innen in eigene Elemente
# mit eigener Schreibrichtung (dir="auto").

## Erster Start und Entsperren

desktop-welcome-title = Willkommen bei Huis Clos
desktop-welcome-intro = Ein Ende-zu-Ende-verschlüsselter Ort für Ihr Netzwerk. Was Sie schreiben, wird auf diesem Computer versiegelt, bevor es ihn verlässt, und nur die Mitglieder eines Raums können es lesen.
desktop-create-heading = Ihr Profil erstellen
desktop-name-label = Ihr Name, wie andere ihn sehen
desktop-passphrase-label = Passphrase
desktop-passphrase-again-label = Dieselbe Passphrase noch einmal
desktop-passphrases-differ = Die beiden Passphrasen unterscheiden sich.
desktop-passphrase-strength = Stärke: { $strength ->
    [0] sehr schwach
    [1] schwach
    [2] mittel
    [3] stark
   *[4] sehr stark
}
desktop-passphrase-rule = Mindestens { $min } Zeichen, mehrere Wörter, die nichts miteinander zu tun haben.
desktop-suggest-button = Starke Passphrase vorschlagen
desktop-create-button = Profil erstellen
desktop-unlock-heading = Ihr Profil entsperren
desktop-unlock-button = Entsperren
desktop-join-heading = Dem Relay Ihres Netzwerks beitreten
desktop-join-intro = Fügen Sie die Einladung ein, die Sie von der Person erhalten haben, die das Relay betreibt.
desktop-invitation-label = Einladung
desktop-join-button = Beitreten

## Das Fenster

desktop-nav-label = Hauptnavigation
desktop-spaces-heading = Räume
desktop-no-spaces = Noch keine Räume. Erstellen Sie einen oder warten Sie auf eine Einladung.
desktop-unread = { $count ->
    [one] { $count } ungelesenes Element
   *[other] { $count } ungelesene Elemente
}
desktop-new-space-button = Neuer Raum
desktop-card-button = Meine Kontaktkarte
desktop-settings-button = Einstellungen
desktop-sync-button = Jetzt synchronisieren
desktop-connection-online = Verbunden
desktop-connection-offline = Offline: Was Sie schreiben, wartet auf den Versand
desktop-waiting-to-send = { $count ->
    [one] { $count } Element wartet auf den Versand
   *[other] { $count } Elemente warten auf den Versand
}
desktop-close-button = Schließen
desktop-cancel-button = Abbrechen

## Ein neuer Raum

desktop-new-space-heading = Neuer Raum
desktop-space-name-label = Name
desktop-space-description-label = Beschreibung (optional)
desktop-space-policy-label = Wer beitreten darf
desktop-space-history-label = Neue Mitglieder lesen, was vor ihrem Beitritt geschrieben wurde
desktop-create-space-button = Raum erstellen

## Einladungen

desktop-invitations-heading = Einladungen
desktop-invitation = { $by } lädt Sie in „{ $space }“ ein.
desktop-invitation-unknown = Sie sind in „{ $space }“ eingeladen.
desktop-accept-button = Annehmen

## Ein Raum

desktop-feed-heading = Feed
desktop-members-heading = Mitglieder
desktop-feed-empty = Hier wurde noch nichts veröffentlicht.
desktop-composer-label = In den Raum schreiben
desktop-post-button = Veröffentlichen
desktop-comment-label = Ihre Antwort
desktop-comment-button = Antworten
desktop-react-button = Mit { $reaction } reagieren
desktop-edited = bearbeitet
desktop-deleted = Dieses Element wurde gelöscht.
desktop-load-more-button = Ältere Beiträge
desktop-invite-heading = Jemanden einladen
desktop-card-label = Kontaktkarte der Person
desktop-role-label = Rolle
desktop-invite-button = Einladen
desktop-invite-sent = Die Einladung ist unterwegs.
desktop-member-devices = { $count ->
    [one] { $count } Gerät
   *[other] { $count } Geräte
}

## Ihre Kontaktkarte

desktop-card-heading = Ihre Kontaktkarte
desktop-card-help = Geben Sie diese Karte der Person, die Sie in einen Raum einladen wird: Diese fügt sie in ihre App ein.

## Einstellungen

desktop-settings-heading = Einstellungen
desktop-language-label = Sprache
desktop-lock-button = Jetzt sperren
desktop-wipe-heading = Notlöschung
desktop-wipe-help = Zerstört dieses Profil auf diesem Computer sofort: nichts darin kann je wieder gelesen werden.
desktop-wipe-confirm-label = Geben Sie zur Bestätigung WIPE ein
desktop-wipe-button = Dieses Profil löschen
desktop-wiped = Das Profil ist zerstört.

## Was geschehen ist

desktop-security-heading = Sicherheit
desktop-refused-heading = Abgelehnt
