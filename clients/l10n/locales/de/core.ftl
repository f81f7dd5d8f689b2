# Was die typisierten Fehler, Gründe und Ereignisse des Kerns sagen, gemeinsam für alle
# Clients (die CLI, die Desktop-App, die Telefon-Apps über die FFI). Die Nachrichten-IDs
# folgen den Rust-Enums: `missing-<variant>`, `refusal-<variant>` und so weiter. Namen von
# Personen und Räumen kommen als Variablen; Fluent isoliert sie, damit ein lateinischer
# Name in einem arabischen Satz (oder umgekehrt) seine eigene Schreibrichtung behält.

## Fehler

error-wrong-passphrase = falsche Passphrase: dieses Profil lässt sich damit nicht öffnen
error-no-profile = kein Profil unter { $dir }
error-profile-exists = unter { $dir } gibt es bereits ein Profil
error-corrupt-profile = das Profil ist beschädigt ({ $detail })
error-store-tampered = ein gespeicherter Wert hat die Authentifizierung nicht bestanden: der Datenträger wurde manipuliert oder beschädigt
error-store = der lokale Speicher hat versagt: { $detail }
error-io = eine Datei konnte nicht gelesen oder geschrieben werden: { $detail }
error-verification = Überprüfung fehlgeschlagen: { $reason }
error-forbidden = nicht erlaubt: { $reason }
error-identity-changed = der Identitätsschlüssel von { $name } hat sich geändert: vergleichen Sie die Sicherheitsnummern und akzeptieren Sie dann den neuen Schlüssel
error-space-stalled = der Raum ist blockiert: Raumverwalter·innen müssen ihn neu erstellen
error-not-found = nicht gefunden: { $what }
error-invalid = ungültige Eingabe: { $reason }
error-mls = die Verschlüsselung der Gruppe hat es abgelehnt ({ $detail })
error-decode = fehlerhafte Daten: { $detail }
error-relay = das Relay hat abgelehnt: { $reason }
error-transport = Verbindung: { $detail }
error-relay-key-not-pinned = das Relay hat einen Schlüssel vorgelegt, dem dieses Profil nicht vertraut. Hat sein Betreiber den Schlüssel des Relays ersetzt, während dieses Gerät offline war, bitten Sie ihn um eine neue Einladung; andernfalls antwortet ein anderer Server unter der Adresse des Relays
error-recovery-words = Wiederherstellungswörter: { $reason }
error-closed = der Client ist beendet
error-other = etwas ist schiefgegangen: { $detail }

## Was nicht gefunden wird

missing-space = Raum
missing-certificate = Zertifikat
missing-relay = Relay: treten Sie einem mit einer Einladung bei
missing-roster = Geräteliste
missing-account = Konto: treten Sie mit einer Einladung einem Relay bei
missing-join-request = Beitrittsanfrage
missing-own-leaf = der Platz dieses Geräts im Raum
missing-item = Element
missing-member = Mitglied
missing-note = Notiz
missing-file = Datei oder Version
missing-own-device = Gerät
missing-pending-device = Gerät, das auf Freigabe wartet
missing-observed-list = beobachtete Liste
missing-invitation = Einladung
missing-grant = Übergabe von Verlaufsschlüsseln
missing-contact = Kontakt
missing-identity-change = geänderter Identitätsschlüssel
missing-other = etwas

## Warum die Regeln eines Raums ablehnen

refusal-reader-writes = Leser·innen können weder Beiträge verfassen noch kommentieren, reagieren oder die Bibliothek ändern
refusal-not-author-or-content-manager = nur wer das Element verfasst hat oder Inhaltsverwalter·in ist, darf es ändern
refusal-not-the-versions-author = nur wer eine Version einer Datei hochgeladen hat, sendet ihre Vorschau
refusal-last-manager-leaving = der oder die letzte Raumverwalter·in muss vor dem Verlassen eine weitere Person benennen
refusal-generations-exhausted = der Raum hatte bereits so viele Generationen, wie ein Raum haben kann
refusal-no-longer-in-space = dieses Gerät ist nicht mehr im Raum
refusal-confidential-space = ein vertraulicher Raum nimmt keine Beitrittsanfragen an
refusal-requests-closed = der Raum nimmt keine Beitrittsanfragen mehr an
refusal-device-approval-required = in diesem Raum geben Raumverwalter·innen jedes neue Gerät frei
refusal-only-own-devices = auf diesem Weg werden nur die eigenen Geräte einer Person hinzugefügt
refusal-no-identity-key = nur das Gerät, das den Identitätsschlüssel besitzt, kann das tun
refusal-fixed-history-mode = eine Änderung des Verlaufsmodus, der beim Erstellen des Raums festgelegt wird
refusal-fixed-continues = eine Änderung des Raums, den dieser Raum fortsetzt; das wird beim Erstellen des Raums festgelegt
refusal-context-incomplete = dem Gruppenkontext fehlen die Regeln, das Verlaufsregister oder die Anforderungen des Raums
refusal-unknown-extension = der Gruppenkontext enthält eine Erweiterung, die Räume nicht verwenden
refusal-ledger-mismatch = das Verlaufsregister der Änderung weicht vom Verlauf der Mitglieder ab
refusal-ledger-dropped = die Änderung verwirft das Verlaufsregister des Raums
refusal-departing-role-kept = die Änderung behält die Rolle einer Person bei, die sie aus dem Raum entfernt
refusal-unknown-change = eine Art von Änderung, die Räume nicht verwenden
refusal-identity-changed-in-update = die Aktualisierung eines Mitglieds ändert, wer es ist
refusal-device-not-on-roster = ein Gerät, das die Geräteliste seiner Person nicht nennt
refusal-other = die Regeln des Raums erlauben es nicht

refusal-manager-invite = nur Raumverwalter·innen dürfen in diesen Raum einladen
refusal-manager-add-people = nur Raumverwalter·innen dürfen diesem Raum Personen hinzufügen
refusal-manager-admit = nur Raumverwalter·innen dürfen Personen in diesen Raum aufnehmen
refusal-manager-readmit = nur Raumverwalter·innen dürfen Personen wieder aufnehmen
refusal-manager-remove = nur Raumverwalter·innen dürfen Personen entfernen
refusal-manager-rename = nur Raumverwalter·innen dürfen den Raum umbenennen
refusal-manager-describe = nur Raumverwalter·innen dürfen den Raum beschreiben
refusal-manager-change-rules = nur Raumverwalter·innen dürfen die Regeln des Raums ändern
refusal-manager-change-roles = nur Raumverwalter·innen dürfen Rollen ändern
refusal-manager-device-approval = nur Raumverwalter·innen dürfen festlegen, wie Geräte beitreten
refusal-manager-add-others-device = nur Raumverwalter·innen dürfen einer anderen Person ein Gerät hinzufügen
refusal-manager-recreate = nur Raumverwalter·innen dürfen einen Raum neu erstellen
refusal-manager-add-recreated-members = nur Raumverwalter·innen dürfen die Mitglieder eines neu erstellten Raums hinzufügen
refusal-manager-hand-out-card = nur Raumverwalter·innen dürfen die Raumkarte dieses Raums weitergeben
refusal-manager-other = nur Raumverwalter·innen dürfen das tun

## Was sich nicht verifizieren ließ

unverified-signature-device-certificate = die Signatur eines Gerätezertifikats ist ungültig
unverified-signature-content = die Signatur eines Elements ist ungültig
unverified-signature-presence = die Signatur einer Anwesenheitsnachricht ist ungültig
unverified-signature-contact-card = die Signatur einer Kontaktkarte ist ungültig
unverified-signature-space-card = die Signatur einer Raumkarte ist ungültig
unverified-signature-link-request = die Signatur einer Verknüpfungsanfrage ist ungültig
unverified-signature-join-request = die Signatur einer Beitrittsanfrage ist ungültig
unverified-signature-identity-transition = die Signatur eines Identitätswechsels ist ungültig
unverified-signature-device-ready = die Signatur einer Bereitschaftsmeldung eines Geräts ist ungültig
unverified-signature-other = eine Signatur ist ungültig
unverified-invalid-key = ein Schlüssel, der nicht gültig ist
unverified-wrong-sender = von jemand anderem gesendet als angegeben
unverified-not-on-roster = von einem Gerät, das die Geräteliste seiner Person nicht nennt
unverified-unknown-author = von einer Person, deren Zertifikat dieses Gerät nicht hat
unverified-wrong-person = gehört zu einer anderen Person oder einem anderen Gerät als angegeben
unverified-wrong-place = für einen anderen Ort bestimmt
unverified-does-not-open = versiegelt und lässt sich hier nicht öffnen
unverified-malformed = fehlerhaft
unverified-stale = außerhalb der zulässigen Zeit datiert
unverified-replay = bereits einmal angenommen (ein Replay)
unverified-history = Verlaufsschlüssel, die nicht zum Verlaufsregister des Raums passen
unverified-chunk = ein Teil einer Datei, der nicht zu seiner Datei passt
unverified-no-link-offer = auf diesem Gerät ist kein Verknüpfungsangebot offen
unverified-link-secret-missing = eine Verknüpfungsanfrage, die ohne das Geheimnis des Angebots erstellt wurde
unverified-not-a-link-offer = kein Verknüpfungsangebot
unverified-not-a-link-request = keine Verknüpfungsanfrage
unverified-outdated-card = eine Kontaktkarte, die älter ist als die neueste Geräteliste der Person: bitten Sie sie um eine neue
unverified-note-update = eine Notizänderung, die fehlerhaft oder zu groß ist oder Text im Namen eines anderen Geräts einfügt
unverified-record-unknown-generation = ein Element, versiegelt mit einem Verlaufsschlüssel, den dieses Gerät nicht besitzt
unverified-record-after-its-generation = ein Element, versiegelt in einer Generation, die bereits beendet war
unverified-record-not-a-member = ein Element, bei dem das Gerät der verfassenden Person kein Mitglied war, solange seine Generation galt
unverified-other = es lässt sich nicht verifizieren

## Eingaben außerhalb der Grenzen oder ein Aufruf, der jetzt keinen Sinn ergibt

invalid-text-display-name = { $may_be_empty ->
    [false] ein Anzeigename darf nicht leer sein, höchstens { $max } Bytes haben und keine Steuerzeichen enthalten
   *[true] ein Anzeigename darf höchstens { $max } Bytes haben und keine Steuerzeichen enthalten
}
invalid-text-space-name = { $may_be_empty ->
    [false] ein Raumname darf nicht leer sein, höchstens { $max } Bytes haben und keine Steuerzeichen enthalten
   *[true] ein Raumname darf höchstens { $max } Bytes haben und keine Steuerzeichen enthalten
}
invalid-text-space-description = { $may_be_empty ->
    [false] eine Raumbeschreibung darf nicht leer sein, höchstens { $max } Bytes haben und keine Steuerzeichen enthalten
   *[true] eine Raumbeschreibung darf höchstens { $max } Bytes haben und keine Steuerzeichen enthalten
}
invalid-text-node-name = { $may_be_empty ->
    [false] ein Name darf nicht leer sein, höchstens { $max } Bytes haben und keine Steuerzeichen enthalten
   *[true] ein Name darf höchstens { $max } Bytes haben und keine Steuerzeichen enthalten
}
invalid-text-note = { $may_be_empty ->
    [false] eine Notiz darf nicht leer sein, höchstens { $max } Bytes haben und keine Steuerzeichen enthalten
   *[true] eine Notiz darf höchstens { $max } Bytes haben und keine Steuerzeichen enthalten
}
invalid-text-text = { $may_be_empty ->
    [false] ein Text darf nicht leer sein, höchstens { $max } Bytes haben und keine Steuerzeichen enthalten
   *[true] ein Text darf höchstens { $max } Bytes haben und keine Steuerzeichen enthalten
}
invalid-text-reaction = { $may_be_empty ->
    [false] eine Reaktion darf nicht leer sein, höchstens { $max } Bytes haben und keine Steuerzeichen enthalten
   *[true] eine Reaktion darf höchstens { $max } Bytes haben und keine Steuerzeichen enthalten
}
invalid-text-join-note = { $may_be_empty ->
    [false] eine Notiz an die Raumverwalter·innen darf nicht leer sein, höchstens { $max } Bytes haben und keine Steuerzeichen enthalten
   *[true] eine Notiz an die Raumverwalter·innen darf höchstens { $max } Bytes haben und keine Steuerzeichen enthalten
}
invalid-text-other = { $may_be_empty ->
    [false] ein Text darf nicht leer sein, höchstens { $max } Bytes haben und keine Steuerzeichen enthalten
   *[true] ein Text darf höchstens { $max } Bytes haben und keine Steuerzeichen enthalten
}
invalid-too-many-file-bytes = eine Datei darf höchstens { $max } Bytes groß sein
invalid-too-many-library-items = eine Bibliothek fasst höchstens { $max } Elemente
invalid-too-many-file-versions = eine Datei hat höchstens { $max } Versionen
invalid-too-many-explicit-roles = ein Raum kann höchstens { $max } Personen eine ausdrückliche Rolle geben
invalid-too-many-observed-lists = es werden höchstens { $max } Listen gleichzeitig beobachtet
invalid-too-many-pending-join-requests = höchstens { $max } Beitrittsanfragen können gleichzeitig auf eine Antwort warten
invalid-too-many-devices = eine Person hat höchstens { $max } Geräte
invalid-too-many-contacts = das Adressbuch fasst höchstens { $max } Personen
invalid-too-many-history-generations = eine Übergabe von Verlaufsschlüsseln umfasst höchstens { $max } Generationen
invalid-too-many-sealed-bytes = es werden höchstens { $max } Bytes auf einmal versiegelt
invalid-too-many-note-length = eine Notiz hat höchstens { $max } Zeichen
invalid-too-many-note-versions = eine Notiz behält höchstens { $max } benannte Versionen
invalid-too-many-chunk-offset = ein Teil einer Datei beginnt spätestens bei Byte { $max }
invalid-too-many-other = höchstens { $max }
invalid-not-text-contact-card = keine gültige Kontaktkarte: prüfen Sie, ob sie vollständig kopiert wurde
invalid-not-text-space-card = keine gültige Raumkarte: prüfen Sie, ob sie vollständig kopiert wurde
invalid-not-text-verification-code = kein gültiger Bestätigungscode: prüfen Sie, ob er vollständig kopiert wurde
invalid-not-text-other = ungültig: prüfen Sie, ob es vollständig kopiert wurde
invalid-unknown-role = unbekannte Rolle: verwenden Sie reader, contributor, content-manager oder space-manager
invalid-passphrase-too-short = eine Passphrase hat mindestens { $min } Zeichen
invalid-passphrase-too-weak = die Passphrase ist zu leicht zu erraten: verwenden Sie mehrere Wörter, die nichts miteinander zu tun haben (sechs zufällige Wörter sind stark)
invalid-passphrase-too-long = die Passphrase ist zu lang
invalid-kdf-params = die Parameter der Schlüsselableitung liegen außerhalb der zulässigen Grenzen
invalid-duress-same-as-passphrase = die Notfall-Passphrase muss sich von der des Profils unterscheiden
invalid-no-duress-in-memory = ein Profil im Arbeitsspeicher hat keine Notfall-Passphrase
invalid-unexpected-answer = das Relay hat mit der falschen Art von Antwort geantwortet
invalid-own-signer-mismatch = etwas, das dieses Gerät erstellt hat, passt nicht zu seinen eigenen Schlüsseln
invalid-sealing-failed = das Versiegeln ist fehlgeschlagen
invalid-sealed-record-malformed = ein versiegelter Datensatz, der keiner ist
invalid-nothing-to-readmit = diese Karte zeigt kein neues Gerät einer Person, das wieder aufgenommen werden könnte
invalid-readmit-self = eine Person nimmt andere wieder auf, nicht sich selbst
invalid-awaiting-history = dieses Gerät wartet auf den Verlauf des Raums
invalid-not-stalled = nur ein blockierter Raum wird neu erstellt
invalid-already-recreated = der Raum wurde bereits neu erstellt
invalid-already-member = bereits in diesem Raum
invalid-not-in-space = das Gerät ist nicht mehr im Raum
invalid-item-too-large = ein Element hat höchstens etwa { $max_kib } KiB
invalid-not-a-welcome = ein Element im Posteingang ist keine Einladung
invalid-space-from-older-release = ein Raum aus einer älteren Version: bitten Sie seine Raumverwalter·innen, ihn neu zu erstellen
invalid-unsupported-operation = ein Vorgang, den Räume nicht verwenden
invalid-not-a-key-package = kein Schlüsselpaket
invalid-already-moved = dieses Gerät ist hier bereits zu seiner neuen Identität gewechselt
invalid-revoke-self = ein Gerät widerruft sich nicht selbst: verwenden Sie die Notlöschung
invalid-already-linked = dieses Gerät ist bereits verknüpft
invalid-already-has-account = dieses Profil hat bereits ein Konto bei einem Relay
invalid-manifest-mismatch = eine Dateibeschreibung, deren Teile nicht zu ihrer Länge passen
invalid-file-changed = die Datei ist länger als ihre angekündigte Länge
invalid-image-metadata-unsupported = bei { $format }-Bildern können die Metadaten (etwa der Aufnahmeort) nicht entfernt werden: wandeln Sie das Bild in JPEG oder PNG um, oder laden Sie es mit seinen Metadaten hoch
invalid-image-metadata-malformed = dieses { $format }-Bild ist beschädigt, seine Metadaten (etwa der Aufnahmeort) können nicht sicher entfernt werden: wandeln Sie es in JPEG oder PNG um, oder laden Sie es mit seinen Metadaten hoch
invalid-image-metadata-too-large = dieses { $format }-Bild ist zu groß, um seine Metadaten (etwa den Aufnahmeort) zu entfernen: verkleinern Sie es, oder laden Sie es mit seinen Metadaten hoch
invalid-no-recipient = eine Mitteilung an kein Gerät
invalid-no-recovery-words = ein Identitätsschlüssel hat keine Wiederherstellungswörter
invalid-rules-malformed = Raumregeln, die nicht wohlgeformt sind
invalid-other = hier nicht gültig

## Wiederherstellungswörter

recovery-wrong-count = { $expected } Wörter erwartet, { $given } eingegeben
recovery-unknown-word = Wort { $position } steht nicht auf der Liste
recovery-mismatch = sie passen nicht zusammen (ein Wort vertippt oder in falscher Reihenfolge?)
recovery-not-a-set = keine gültige Wortfolge
recovery-other = sie sind nicht gültig

## Was das Relay gesagt hat

relay-bad-request = fehlerhafte Anfrage
relay-unsupported-version = nicht unterstützte Protokollversion; das Relay spricht Version { $supported }
relay-auth-required = zuerst authentifizieren
relay-auth-failed = Authentifizierung fehlgeschlagen
relay-invitation-invalid = Einladung ungültig, bereits benutzt oder abgelaufen
relay-forbidden = Zugriff auf die Gruppe verweigert
relay-not-found = nicht gefunden
relay-conflict = steht im Widerspruch zu den gespeicherten Daten
relay-stale-epoch = die Gruppe ist bereits weiter (Epoche { $current })
relay-quota-exceeded = Speicher voll: { $used } von { $quota } Bytes belegt
relay-limit-exceeded = ein Limit des Relays ist erreicht
relay-rate-limited = zu viele Anfragen; erneut versuchen in { $seconds } s
relay-internal = das Relay hat versagt
relay-other = das Relay hat abgelehnt

## Die Art des Fehlers, die ein Ereignis trägt

fault-unverified = Überprüfung fehlgeschlagen: { $reason }
fault-forbidden = nicht erlaubt: { $reason }
fault-not-found = nicht gefunden: { $what }
fault-relay = das Relay hat abgelehnt: { $reason }
fault-malformed = fehlerhafte Daten
fault-mls = die Verschlüsselung der Gruppe hat es abgelehnt
fault-invalid = ungültige Eingabe: { $reason }
fault-space-stalled = der Raum ist blockiert
fault-identity-changed = ein Identitätsschlüssel hat sich geändert
fault-store = der lokale Speicher hat versagt
fault-connection = die Verbindung ist fehlgeschlagen
fault-other = ein interner Fehler

## Abgelehnte und verworfene Arbeit

rejection-step-failed = ein Schritt ist fehlgeschlagen: { $reason }
rejection-sign-in-failed = Anmeldung nicht möglich: { $reason }
rejection-request-not-prepared = eine Anfrage konnte nicht vorbereitet werden: { $reason }
rejection-invitation-refused = eine Einladung wurde abgelehnt: { $reason }
rejection-log-entry = Protokolleintrag { $position } abgelehnt: { $reason }
rejection-content-record = Inhaltsdatensatz { $seq } abgelehnt: { $reason }
rejection-no-usable-key-package = die Einladung ist fehlgeschlagen: keines der Geräte der Person hat ein verwendbares Schlüsselpaket
rejection-delivery-failed = eine Einladung konnte einem Gerät nicht zugestellt werden: { $reason }
rejection-join-request-undelivered = die Beitrittsanfrage konnte nicht zugestellt werden: { $reason }
rejection-upload-dropped = ein Upload wurde verworfen: dieses Gerät kann im Raum nicht mehr schreiben
rejection-download-dropped = ein Download wurde verworfen: dieses Gerät ist nicht mehr im Raum
rejection-unsent-item-dropped = ein nicht gesendetes Element wurde verworfen: dieses Gerät ist nicht mehr im Raum
rejection-operation-dropped = ein Vorgang wurde verworfen: { $reason }
rejection-other = etwas wurde abgelehnt

## Sicherheitswarnungen

warning-revoked-by-new-identity = der Identitätsschlüssel dieser Person wurde ersetzt, und dieses Gerät wurde nicht übernommen: es wurde widerrufen
warning-revoked-by-own-device = ein anderes Gerät dieser Person hat dieses Gerät widerrufen
warning-conflicting-rosters = zwei verschiedene Gerätelisten einer Person unter derselben Version: ihr Identitätsschlüssel ist möglicherweise in fremden Händen
warning-commits-withheld = das Relay meldet, dass dieser Raum weiter ist, liefert aber keine Änderung, die dorthin führt: es hält möglicherweise Änderungen des Raums vor diesem Gerät zurück
warning-log-access-refused = das Relay hat diesem Gerät den Zugriff auf das Protokoll des Raums verweigert
warning-log-entries-skipped = das Relay hat die Protokolleinträge { $first } bis { $last } übersprungen: möglicherweise wurden Nachrichten zurückgehalten
warning-content-records-skipped = das Relay hat die Inhaltsdatensätze { $first } bis { $last } übersprungen: möglicherweise wurden Elemente zurückgehalten
warning-history-grant-refused = { $from } hat diesem Gerät einen Verlauf übergeben, der nicht zum Verlaufsregister des Raums passt ({ $reason }); er wurde abgelehnt
warning-stalled-by = { $by } hat eine Änderung vorgenommen, die die eigene Rolle nicht erlaubt ({ $reason }); sie wurde abgelehnt, und der Raum ist blockiert, bis Raumverwalter·innen ihn ohne diese Person neu erstellen
warning-stalled = eine Änderung, die kein Gerät anwenden kann, wurde vom Relay angenommen ({ $reason }); der Raum ist blockiert, bis Raumverwalter·innen ihn neu erstellen
warning-author-not-sender = ein Element gab jemand anderen als seinen Absender als verfassende Person an; es wurde abgelehnt
warning-note-contradicted = { $by } hat eine zweite Fassung eines Textes in einer Notiz gesendet; dieses Gerät behält die erste, aber wer die Notiz später liest, sieht womöglich die zweite
warning-unasked-device = das Relay hat auf eine Anforderung mit einem Gerät geantwortet, nach dem nicht gefragt wurde
warning-foreign-key-package = das Relay hat ein Schlüsselpaket geliefert, das nicht zu einem Gerät der eingeladenen Person gehört: { $reason }
warning-other = etwas scheint nicht zu stimmen

## Zustellungen, die warten

delay-quota-full = eine Einladung konnte noch nicht zugestellt werden (der Speicher dieses Kontos beim Relay ist voll); sie wird erneut gesendet
delay-inbox-full = eine Einladung konnte noch nicht zugestellt werden (der Posteingang der eingeladenen Person beim Relay ist voll); sie wird erneut gesendet
delay-other = eine Zustellung wartet; sie wird erneut gesendet

## Rollen, Richtlinien, Verlaufsmodi

role-reader = Leser·in
role-contributor = Mitwirkende·r
role-content-manager = Inhaltsverwalter·in
role-space-manager = Raumverwalter·in
policy-open = offen
policy-on-request = auf Anfrage
policy-confidential = vertraulich
history-keep = Verlauf wird aufbewahrt
history-none = kein Verlauf

## Ereignisse

event-account-created = Konto erstellt.
event-invited = { $by } hat Sie in „{ $space }“ eingeladen.
event-joined = Sie sind jetzt in „{ $space }“.
event-removed = Sie sind nicht mehr in „{ $space }“.
event-recreated = „{ $space }“ wurde ohne das Mitglied neu erstellt, das den Raum blockiert hat; er wird als { $successor } fortgeführt.
event-uploaded = Eine Datei mit { $bytes } Bytes wurde in „{ $space }“ hochgeladen.
event-downloaded = Eine Datei mit { $bytes } Bytes wurde aus „{ $space }“ heruntergeladen.
event-library-changed = Die Bibliothek von „{ $space }“ hat sich geändert.
event-note-changed = Eine Notiz in „{ $space }“ hat sich geändert.
event-note-version-named = Eine Version einer Notiz in „{ $space }“ wurde benannt.
event-notify-post = { $from } hat in „{ $space }“ einen Beitrag veröffentlicht
event-notify-reply = { $from } hat Ihnen in „{ $space }“ geantwortet
event-notify-reaction = { $from } hat in „{ $space }“ auf Ihr Element reagiert
event-join-admitted = { $name } ({ $identity }) hat um Beitritt zu „{ $space }“ gebeten und wurde aufgenommen.
event-join-requested = { $name } ({ $identity }) bittet um Beitritt zu „{ $space }“.
event-identity-changed = { $was_verified ->
    [true] SICHERHEIT: Der Identitätsschlüssel von { $name } hat sich geändert ({ $previous } -> { $current }); der alte Schlüssel war verifiziert. Mit dem neuen Schlüssel geschieht nichts, bis Sie die Sicherheitsnummern verglichen und ihn akzeptiert haben.
   *[false] SICHERHEIT: Der Identitätsschlüssel von { $name } hat sich geändert ({ $previous } -> { $current }). Mit dem neuen Schlüssel geschieht nichts, bis Sie die Sicherheitsnummern verglichen und ihn akzeptiert haben.
}
event-device-added = Ein neues Gerät von { $name } ({ $device }) ist „{ $space }“ beigetreten: es kann ab jetzt alles dort lesen.
event-identity-rotated = SICHERHEIT: { $name } hat den eigenen Identitätsschlüssel ersetzt ({ $previous } -> { $current }), mit einem vom alten Schlüssel signierten Wechsel. Vergleichen Sie die Sicherheitsnummern erneut mit dieser Person, bevor Sie dem vertrauen.
event-delivery-waiting = In „{ $space }“: { $reason }.
event-rejected = abgelehnt: { $reason }
event-security-warning-in = SICHERHEIT in „{ $space }“: { $reason }
event-security-warning = SICHERHEIT: { $reason }
