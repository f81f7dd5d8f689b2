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
desktop-connection-via = Verbunden über { $transport }
desktop-connection-retrying = neuer Versuch in { $seconds } s
desktop-item-waiting = Wartet auf den Versand
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

## Die Bereiche eines Raums

desktop-space-sections-label = Bereiche dieses Raums
desktop-tab-feed = Feed
desktop-tab-library = Bibliothek
desktop-tab-members = Mitglieder

## Geschriebenes ändern

desktop-edit-button = Bearbeiten
desktop-edit-label = Der neue Text
desktop-save-button = Speichern
desktop-delete-button = Löschen
desktop-delete-confirm = Dies für alle löschen?
desktop-edited-by-moderator = von der Moderation bearbeitet
desktop-yes-button = Ja
desktop-no-button = Nein

## Mitglieder, Beitrittsanfragen, die Karte des Raums

desktop-you = (Sie)
desktop-role-of = Rolle von { $name }
desktop-role-changed = { $name } hat eine neue Rolle.
desktop-remove-button = Entfernen
desktop-remove-confirm = { $name } aus diesem Raum entfernen? Danach Geschriebenes bleibt für diese Person unlesbar.
desktop-member-removed = { $name } wurde entfernt.
desktop-requests-heading = Beitrittsanfragen
desktop-requests-empty = Niemand wartet auf den Beitritt.
desktop-approve-button = Annehmen
desktop-decline-button = Ablehnen
desktop-space-card-heading = Die Karte dieses Raums
desktop-space-card-help = Wer diese Karte hat, kann um Beitritt bitten; die Verwaltung des Raums entscheidet.
desktop-show-card-button = Karte anzeigen
desktop-qr-alt = QR-Code der Karte unten
desktop-leave-heading = Diesen Raum verlassen
desktop-leave-button = Verlassen
desktop-leave-confirm = „{ $space }“ verlassen? Für die Rückkehr brauchen Sie eine neue Einladung.

## Die Bibliothek

desktop-folder-path-label = Ordner
desktop-library-top = Bibliothek
desktop-upload-button = Dateien hochladen
desktop-new-folder-button = Neuer Ordner
desktop-new-note-button = Neue Notiz
desktop-drop-hint = oder Dateien hier ablegen
desktop-folder-name-label = Name des Ordners
desktop-note-name-label = Name der Notiz
desktop-create-button-short = Erstellen
desktop-folder-empty = Dieser Ordner ist leer.
desktop-kind-folder = Ordner
desktop-kind-file = Datei
desktop-kind-note = Notiz
desktop-rename-button = Umbenennen
desktop-rename-label = Neuer Name
desktop-trash-button = In den Papierkorb
desktop-show-trash-button = Papierkorb anzeigen
desktop-hide-trash-button = Papierkorb ausblenden
desktop-trash-heading = Papierkorb
desktop-trash-empty = Der Papierkorb ist leer.
desktop-restore-button = Wiederherstellen
desktop-download-button = Herunterladen
desktop-versions-button = Versionen
desktop-preview-alt = Vorschau von { $name }
desktop-keep-metadata = Metadaten der Fotos behalten
desktop-keep-metadata-warning = Fotos, die Sie jetzt hochladen, behalten Aufnahmeort, -zeit und Kamera: alle Mitglieder können sie lesen. Nur für Beweismittel, deren Herkunft sichtbar sein muss.
desktop-versions-count = { $count ->
    [one] { $count } Version
   *[other] { $count } Versionen
}
desktop-version = Version { $number }
desktop-uploading = { $name } wird hochgeladen
desktop-downloading = { $name } wird heruntergeladen
desktop-upload-done = Hochgeladen.
desktop-download-done = In Ihren Downloads gespeichert als { $name }.
desktop-file-too-large = { $name } ist zu groß, um von hier hochgeladen zu werden (höchstens { $max }).

## Eine Notiz

desktop-back-button = Zurück
desktop-preview-button = Vorschau
desktop-note-text-label = Text der Notiz, in Markdown
desktop-note-saved = Gespeichert und versiegelt.
desktop-note-also-here = Ebenfalls in dieser Notiz: { $names }

## Geräte und Kontakte

desktop-people-button = Geräte und Kontakte
desktop-people-heading = Geräte und Kontakte
desktop-devices-heading = Ihre Geräte
desktop-this-device = (dieser Computer)
desktop-device-since = verknüpft am { $date }
desktop-revoke-button = Widerrufen
desktop-revoke-confirm = { $name } widerrufen? Danach Geschriebenes bleibt für dieses Gerät unlesbar.
desktop-link-button = Neues Gerät verknüpfen
desktop-link-heading = Angebot für ein neues Gerät
desktop-link-help = Wählen Sie auf dem neuen Gerät, es mit einer bestehenden Person zu verknüpfen, und geben Sie ihm dieses Angebot. Es zeigt dann eine Anfrage: Fügen Sie sie unten ein.
desktop-link-request-label = Die Anfrage des neuen Geräts
desktop-link-check-button = Anfrage prüfen
desktop-link-code-help = Das neue Gerät zeigt einen Code. Nehmen Sie es nur an, wenn es dieser ist:
desktop-link-approve-button = Dieses Gerät annehmen
desktop-link-approved = { $name } ist verknüpft.
desktop-contacts-heading = Kontakte
desktop-contacts-empty = Noch keine Kontakte: Die Personen, mit denen Sie einen Raum teilen, erscheinen hier.
desktop-verified = verifiziert
desktop-not-verified = nicht verifiziert
desktop-key-changed = Der Schlüssel von { $name } hat sich geändert. Vergleichen Sie die Sicherheitsnummern erneut, bevor Sie ihm vertrauen.
desktop-safety-number-button = Sicherheitsnummer
desktop-safety-number-help = Vergleichen Sie diese Nummer mit { $name }, persönlich oder über einen vertrauenswürdigen Anruf. Stimmt sie überein, markieren Sie den Kontakt als verifiziert.
desktop-mark-verified-button = Als verifiziert markieren
desktop-accept-key-button = Neuen Schlüssel akzeptieren
desktop-accept-key-confirm = Den neuen Schlüssel von { $name } akzeptieren? Tun Sie das erst, nachdem Sie die Sicherheitsnummern verglichen haben.

## Sperren

desktop-lock-after-label = Sperren nach dieser Zeit ohne Nutzung
desktop-lock-never = Nie
desktop-lock-after-minutes = { $count ->
    [one] { $count } Minute
   *[other] { $count } Minuten
}

## Wiederherstellungswörter und Notfall-Passphrase

desktop-words-heading = Wiederherstellungswörter
desktop-words-intro = Diese 24 Wörter sind Ihre Identität. Geht dieser Computer verloren, holen sie Sie auf einem neuen zurück. Schreiben Sie sie der Reihe nach auf Papier und bewahren Sie das Papier fern von diesem Computer auf.
desktop-words-warning = Wer diese Wörter liest, kann sich als Sie ausgeben. Fotografieren Sie sie nie und tippen Sie sie nirgendwo sonst ein.
desktop-words-written-button = Ich habe sie aufgeschrieben
desktop-words-check-heading = Prüfen Sie zwei davon
desktop-word-at-label = Wort Nummer { $position }
desktop-words-check-button = Prüfen
desktop-words-show-again-button = Wörter noch einmal zeigen
desktop-words-wrong = Das ist nicht das Wort an dieser Stelle. Sehen Sie noch einmal auf Ihr Papier.
desktop-words-settings-help = Geben Sie Ihre Passphrase ein, um Ihre Wiederherstellungswörter noch einmal zu sehen.
desktop-words-show-button = Wiederherstellungswörter zeigen
desktop-words-hide-button = Wörter verbergen
desktop-duress-heading = Notfall-Passphrase
desktop-duress-help = Zwingt Sie jemand, diesen Computer zu entsperren, geben Sie statt Ihrer Passphrase diese ein: Ihr Profil wird spurlos zerstört und an seiner Stelle öffnet sich ein harmloses Profil.
desktop-duress-current-label = Ihre Passphrase
desktop-duress-label = Notfall-Passphrase
desktop-decoy-name-label = Name im harmlosen Profil (Ihrer, wenn leer)
desktop-decoy-invitation-label = Eine Einladung zum Relay für das harmlose Profil (optional)
desktop-duress-set = Die Notfall-Passphrase ist gesetzt.
desktop-duress-button = Notfall-Passphrase setzen

## Benachrichtigungen

desktop-notifications-label = Benachrichtigungen
desktop-notifications-off = Keine
desktop-notifications-without-content = Ohne Inhalt (nur dass es Neues gibt)
desktop-notifications-with-content = Mit dem Raum, dem Namen und dem Text
desktop-notifications-help = Eine Benachrichtigung ist auf dem Bildschirm lesbar und wird vom System aufbewahrt, auch wenn die App gesperrt ist.
desktop-notify-without-content = Neues in einem Ihrer Räume.
desktop-notify-post = { $name }: { $text }
desktop-notify-reply = { $name } hat Ihnen geantwortet: { $text }
desktop-notify-reaction = { $name } hat auf Ihren Beitrag reagiert.

## QR-Bilder und Beitrittsanfragen

desktop-qr-open-button = QR-Bild öffnen
desktop-qr-not-an-image = Diese Datei ist kein Bild, das die App lesen kann (PNG, JPEG oder GIF, höchstens 20 MB).
desktop-qr-none = In diesem Bild konnte kein QR-Code gelesen werden.
desktop-ask-heading = Beitritt zu einem Raum anfragen
desktop-space-card-label = Die Karte des Raums
desktop-ask-note-label = Eine Nachricht an die Verwaltung des Raums (optional)
desktop-ask-button = Beitritt anfragen
desktop-asked = Ihre Anfrage ist gesendet. Der Raum erscheint hier, sobald Sie aufgenommen sind.

## Diesen Computer mit einer bestehenden Person verbinden

desktop-link-this-question = Sie nutzen Huis Clos schon auf einem anderen Gerät?
desktop-link-this-button = Diesen Computer damit verbinden
desktop-link-this-heading = Diesen Computer verbinden
desktop-link-this-intro = Öffnen Sie auf Ihrem anderen Gerät „Geräte“ und wählen Sie, ein neues Gerät zu verbinden. Fügen Sie das dort angezeigte Angebot hier ein oder öffnen Sie ein Bild seines QR-Codes.
desktop-link-offer-label = Das Angebot Ihres anderen Geräts
desktop-link-start-button = Verbindung anfragen
desktop-link-request-help = Fügen Sie diese Anfrage auf Ihrem anderen Gerät dort ein (oder scannen Sie ihren QR-Code), wo es nach der Anfrage des neuen Geräts fragt.
desktop-link-request-qr-alt = Die Anfrage dieses Computers als QR-Code
desktop-link-request-shown-label = Die Anfrage dieses Computers
desktop-link-code-compare = Ihr anderes Gerät zeigt dann einen Code. Bestätigen Sie dort nur, wenn es dieser ist:
desktop-link-waiting = Warten auf die Bestätigung …
desktop-link-cancel-button = Verbinden abbrechen
desktop-link-cancel-confirm = Das Verbinden dieses Computers abbrechen? Was er vorbereitet hat, wird zerstört, und Sie können neu beginnen.

## Öffnen mit dem Schlüsselbund des Systems

desktop-protection-label = Wie dieses Profil geöffnet wird
desktop-protection-passphrase = Mit einer Passphrase, die ich jedes Mal eingebe
desktop-protection-keychain = Mit dem Schlüsselbund dieses Computers, ohne Passphrase
desktop-protection-keychain-warning = Wer Ihre Sitzung auf diesem Computer öffnen kann, kann dann auch Huis Clos öffnen, und eine Notfall-Passphrase ist nicht möglich. Wählen Sie eine Passphrase, wenn der Computer beschlagnahmt werden könnte.
desktop-unlock-keychain-help = Dieses Profil wird mit dem Schlüsselbund dieses Computers geöffnet.
desktop-duress-needs-passphrase = Eine Notfall-Passphrase braucht ein Profil, das mit einer Passphrase geöffnet wird; dieses wird mit dem Schlüsselbund geöffnet.

## Vergleich per QR-Code

desktop-verify-qr-help = Oder vergleichen Sie per QR-Code: { $name } scannt Ihren, und Sie öffnen ein Bild des anderen.
desktop-verify-qr-alt = Ihr Code zum Scannen für { $name }
desktop-verify-scan-button = Ein Bild des Codes von { $name } öffnen
desktop-verify-match = Die Codes stimmen überein: { $name } ist verifiziert.
desktop-verify-mismatch = Die Codes stimmen nicht überein. Vertrauen Sie diesem Kontakt nicht, bevor Sie den Grund kennen: Jemand könnte dazwischen sein, oder der Schlüssel von { $name } hat sich geändert.
