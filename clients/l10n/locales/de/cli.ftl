# Was der Kommandozeilen-Client `huisclos` sagt. Befehlsnamen, Optionen und die Wörter,
# die eine Person eingibt (yes, WIPE, Richtliniennamen auf der Kommandozeile), bleiben
# in jeder Sprache so, wie sie hier stehen: sie gehören zum Befehl, und Skripte geben sie ein.

## Was er sagt

cli-profile-created = Profil in { $dir } erstellt. Treten Sie als Nächstes einem Relay bei: huisclos join INVITATION
cli-joined = Dem Relay beigetreten; Konto { $account }.
cli-queued = Gespeichert; wird bei der nächsten Synchronisierung gesendet.
cli-offline = Offline ({ $why }); alles bleibt für die nächste Synchronisierung in der Warteschlange.
cli-sync-done = Auf dem neuesten Stand: { $spaces ->
        [one] { $spaces } Raum
       *[other] { $spaces } Räume
    }, { $outbox ->
        [one] { $outbox } Element wartet auf den Versand.
       *[other] { $outbox } Elemente warten auf den Versand.
    }
cli-space-created = Raum „{ $name }“ erstellt ({ $id }).
cli-invited = Einladung für { $name } in die Warteschlange gestellt.
cli-item-queued = Element { $id } gespeichert.
cli-nothing-here = Hier ist noch nichts.
cli-link-offer-shown = Zeigen Sie dieses Angebot dem neuen Gerät (dort huisclos init --name NAME --link OFFER) und geben Sie dann seine Anfrage hier frei mit: huisclos devices approve REQUEST
cli-link-request-shown = Geben Sie diese Anfrage auf Ihrem bisherigen Gerät frei (huisclos devices approve REQUEST). Beide Geräte zeigen den Bestätigungscode { $code }.
cli-link-confirm = Das Gerät „{ $name }“ mit dem Bestätigungscode { $code } verknüpfen? Geben Sie yes ein, um es freizugeben:
cli-link-approved = Gerät „{ $name }“ freigegeben; es erhält jetzt Ihre Identität.
cli-link-declined = Nicht freigegeben; es wurde nichts gesendet.
cli-link-waiting = Warten auf die Freigabe…
cli-linked = Dieses Gerät ist jetzt mit der Identität von { $name } verknüpft.
cli-watching = Warten auf neue Ereignisse (Strg+C zum Beenden)…
cli-verified = { $name } ist als verifiziert markiert.
cli-key-accepted = Der neue Identitätsschlüssel von { $name } ist akzeptiert (nicht verifiziert: vergleichen Sie die Sicherheitsnummern).
cli-safety-number = Sicherheitsnummer mit { $name } (vergleichen Sie sie mit der der anderen Person, persönlich oder in einem vertrauenswürdigen Anruf):
cli-request-sent = Beitrittsanfrage für „{ $space }“ gesendet; Sie treten bei, sobald sie freigegeben ist.
cli-duress-set = Notfall-Passphrase festgelegt. Wird sie statt Ihrer Passphrase eingegeben, zerstört sie dieses Profil und öffnet das jetzt angelegte Tarnprofil.
cli-delete-keeps-relay-copy = Hinweis: Das Element wird aus den Feeds der Mitglieder gelöscht, nicht vom Relay, wo es versiegelt und für jedes Mitglied lesbar bleibt.
cli-identity-key-replaced = Ihr Identitätsschlüssel wurde ersetzt; Ihre Kontakte werden benachrichtigt und sollten die Sicherheitsnummern erneut mit Ihnen vergleichen. Notieren Sie Ihre neuen Wiederherstellungswörter: huisclos recovery-words
cli-device-revoked = Gerät „{ $name }“ widerrufen: das Relay weist es ab, und es wird aus Ihren Räumen entfernt.
cli-wipe-confirm = Dies zerstört das Profil endgültig: nichts darin kann je wieder gelesen werden. Geben Sie WIPE ein, um fortzufahren:
cli-wipe-declined = Es wurde nichts gelöscht.
cli-wiped = Das Profil ist zerstört.
cli-recovered = Identität { $identity } auf diesem neuen Gerät wiederhergestellt. Treten Sie dem Relay mit einer neuen Einladung bei (huisclos join INVITATION) und geben Sie dann in jedem Ihrer Räume Ihre Kontaktkarte (huisclos whoami) an eine·n Raumverwalter·in: diese nehmen Sie mit huisclos space readmit wieder auf.
cli-recovery-words-confirm = Wer diese Wörter liest, kann sich als Sie ausgeben. Achten Sie darauf, dass niemand und keine Kamera den Bildschirm sieht. Anzeigen? Geben Sie yes ein:
cli-recovery-words-shown = Schreiben Sie diese 24 Wörter der Reihe nach auf Papier und bewahren Sie sie getrennt von diesem Gerät auf. Mit einer neuen Einladung stellen sie Ihre Identität auf einem neuen Gerät wieder her (huisclos init --recover).
cli-readmitted = { $name } wird wieder aufgenommen: die alten Geräte werden entfernt, das neue wird hinzugefügt.
cli-done = Erledigt.

## Hinweise nach einem Ereignis: der Befehl, der darauf antwortet

cli-hint-accept-invitation = Annehmen mit: huisclos space accept { $id }
cli-hint-decide-request = Entscheiden mit: huisclos space requests { $id }
cli-hint-accept-key = Führen Sie dann aus: huisclos accept-key { $name }

## Warum ein Befehl so, wie er eingegeben wurde, nicht ausgeführt werden kann

cli-problem-not-an-invitation = keine Einladung: { $error }
cli-problem-note-path = geben Sie den Pfad einer Notiz an
cli-problem-not-a-note = { $path } ist keine Notiz
cli-problem-editor-failed = der Editor wurde nicht ordnungsgemäß beendet: die Notiz ist unverändert
cli-problem-top-does-not-move = die oberste Ebene der Bibliothek lässt sich nicht verschieben
cli-problem-no-item-at = kein Element unter { $path }
cli-problem-no-such-version = { $count ->
    [0] keine Version dieser Notiz beginnt mit „{ $typed }“ (siehe note-log)
   *[other] { $count } Versionen beginnen mit „{ $typed }“: geben Sie mehr von der Kennung ein
}
cli-problem-top-not-trashed = die oberste Ebene der Bibliothek liegt nicht im Papierkorb
cli-problem-trashed-path = geben Sie den Pfad eines Elements im Papierkorb an
cli-problem-no-usable-file-name = { $path } hat keinen verwendbaren Dateinamen
cli-problem-is-a-note = { $path } ist eine Notiz, keine Datei
cli-problem-file-path = geben Sie den Pfad einer Datei an
cli-problem-devices-match = { $count ->
        [one] { $count } Ihrer anderen Geräte entspricht „{ $typed }“: verwenden Sie die ID aus huisclos devices list
       *[other] { $count } Ihrer anderen Geräte entsprechen „{ $typed }“: verwenden Sie die ID aus huisclos devices list
    }
cli-problem-not-approved-in-time = nicht rechtzeitig freigegeben; führen Sie denselben Befehl erneut aus, um weiter zu warten
cli-problem-no-recovery-words = keine Wiederherstellungswörter angegeben: geben Sie sie ein, wenn Sie danach gefragt werden, oder setzen Sie { $var } in Skripten
cli-problem-link-without-engine = die Verknüpfung ist abgeschlossen, aber das Gerät ist nicht bereit: führen Sie den Befehl erneut aus
cli-problem-no-match = { $what ->
        [space] kein Raum entspricht „{ $typed }“
        [person] keine Person entspricht „{ $typed }“
        [device] kein Gerät entspricht „{ $typed }“
       *[item] kein Element entspricht „{ $typed }“
    }
cli-problem-many-match = { $what ->
        [space] { $count } Räume entsprechen „{ $typed }“: geben Sie mehr von der ID ein
        [person] { $count } Personen entsprechen „{ $typed }“: geben Sie mehr von der ID ein
        [device] { $count } Geräte entsprechen „{ $typed }“: geben Sie mehr von der ID ein
       *[item] { $count } Elemente entsprechen „{ $typed }“: geben Sie mehr von der ID ein
    }
cli-problem-not-an-item-id = „{ $typed }“ ist keine Element-ID (mindestens 4 Hexadezimalziffern)
cli-problem-path-ends-with-name = ein Pfad endet mit einem Namen
cli-problem-no-profile-directory = kein Profilverzeichnis: übergeben Sie --profile DIR oder setzen Sie HUISCLOS_PROFILE
cli-problem-not-utf8 = { $var } ist kein gültiges UTF-8
cli-problem-no-passphrase = keine Passphrase: geben Sie sie in einem Terminal ein oder setzen Sie { $var }
cli-problem-no-duress-passphrase = keine Notfall-Passphrase: geben Sie sie ein oder setzen Sie { $var }
cli-problem-passphrases-differ = die beiden Passphrasen unterscheiden sich; es wurde nichts geändert
cli-problem-passphrase-too-weak = diese Passphrase ist zu kurz oder zu leicht zu erraten: verwenden Sie mindestens { $min } Zeichen und mehrere Wörter, die nichts miteinander zu tun haben. Sechs zufällige Wörter sind stark, zum Beispiel: { $suggestion }
cli-problem-profile-exists = in { $dir } gibt es bereits ein Profil
cli-problem-no-profile-in = kein Profil in { $dir }: erstellen Sie eines mit huisclos init --name NAME
cli-problem-waits-to-be-linked = dieses Gerät wartet darauf, verknüpft zu werden: führen Sie nach der Freigabe huisclos init --link erneut aus, um abzuschließen
cli-problem-no-relay = dieses Profil ist keinem Relay beigetreten: führen Sie huisclos join INVITATION aus
cli-problem-unknown-policy = unbekannte Richtlinie „{ $typed }“: verwenden Sie open, on-request oder confidential
cli-problem-unknown-language = unbekannte Sprache „{ $typed }“: verwenden Sie en, fr, de, ar oder pt

## Was er fragt

cli-prompt-passphrase = Passphrase:
cli-prompt-new-passphrase = Neue Passphrase:
cli-prompt-same-passphrase = Dieselbe Passphrase noch einmal:
cli-prompt-duress-passphrase = Notfall-Passphrase:
cli-prompt-same-duress-passphrase = Dieselbe Notfall-Passphrase noch einmal:
cli-prompt-recovery-words = Ihre 24 Wiederherstellungswörter, durch Leerzeichen getrennt:

## Wörter seiner Auflistungen

cli-word-name = Name:
cli-word-identity = Identität:
cli-word-account = Konto:
cli-word-device = Gerät:
cli-word-card = Karte:
cli-word-key-changed = SCHLÜSSEL GEÄNDERT
cli-word-verified = verifiziert
cli-word-not-verified = nicht verifiziert
cli-word-unread = { $count } ungelesen
cli-word-left = verlassen
cli-word-stalled = blockiert
cli-word-muted = stummgeschaltet
cli-word-your-role = Sie: { $role }
cli-word-edited = (bearbeitet)
cli-word-replaced-by = (Text ersetzt durch { $name }, Inhaltsverwalter·in)
cli-word-removed-by = (entfernt durch { $name }, Inhaltsverwalter·in)
cli-word-deleted = (gelöscht)
cli-word-this-device = (dieses Gerät)
cli-word-folder = Ordner
cli-word-file = Datei
cli-word-note = Notiz
cli-word-file-size = { $bytes } Bytes, { $versions ->
        [one] { $versions } Version
       *[other] { $versions } Versionen
    }
cli-word-devices = { $count ->
        [one] { $count } Gerät
       *[other] { $count } Geräte
    }
cli-word-security = SICHERHEIT:
cli-word-refused = abgelehnt:
