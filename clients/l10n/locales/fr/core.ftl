# Ce que disent les erreurs typées, les motifs et les événements du cœur, communs à tous
# les clients (la CLI, l'application de bureau, les applications mobiles via la FFI). Les
# identifiants de messages suivent les enums Rust : `missing-<variant>`, `refusal-<variant>`,
# etc. Les noms de personnes et d'espaces arrivent sous forme de variables ; Fluent les
# isole pour qu'un nom en alphabet latin dans une phrase arabe (ou l'inverse) garde son
# propre sens d'écriture.

## Erreurs

error-wrong-passphrase = phrase de passe incorrecte : ce profil ne s'ouvre pas avec elle
error-no-profile = aucun profil dans { $dir }
error-profile-exists = un profil existe déjà dans { $dir }
error-corrupt-profile = le profil est endommagé ({ $detail })
error-store-tampered = une valeur enregistrée n'a pas passé l'authentification : le disque a été altéré ou endommagé
error-store = le stockage local a échoué : { $detail }
error-io = un fichier n'a pas pu être lu ou écrit : { $detail }
error-verification = échec de la vérification : { $reason }
error-forbidden = non autorisé : { $reason }
error-identity-changed = la clé d'identité de { $name } a changé : comparez les numéros de sécurité, puis acceptez la nouvelle clé
error-space-stalled = l'espace est bloqué : un gestionnaire de l'espace doit le recréer
error-not-found = introuvable : { $what }
error-invalid = saisie non valide : { $reason }
error-mls = le chiffrement du groupe l'a refusé ({ $detail })
error-decode = données mal formées : { $detail }
error-relay = le relais a refusé : { $reason }
error-transport = connexion : { $detail }
error-relay-key-not-pinned = le relais a présenté une clé que ce profil ne reconnaît pas. Si son opérateur a remplacé la clé du relais pendant que cet appareil était hors ligne, demandez-lui une nouvelle invitation ; sinon, un autre serveur répond à l'adresse du relais
error-recovery-words = mots de récupération : { $reason }
error-closed = le client est arrêté
error-other = une erreur s'est produite : { $detail }

## Ce qui est introuvable

missing-space = espace
missing-certificate = certificat
missing-relay = relais : rejoignez-en un avec une invitation
missing-roster = liste des appareils
missing-account = compte : rejoignez un relais avec une invitation
missing-join-request = demande d'adhésion
missing-own-leaf = place de cet appareil dans l'espace
missing-item = élément
missing-member = membre
missing-note = note
missing-file = fichier ou version
missing-own-device = appareil
missing-pending-device = appareil en attente d'approbation
missing-observed-list = liste observée
missing-invitation = invitation
missing-grant = octroi de clés d'historique
missing-contact = contact
missing-identity-change = clé d'identité modifiée
missing-other = quelque chose

## Pourquoi les règles d'un espace refusent

refusal-reader-writes = les lecteurs ne publient pas, ne commentent pas, ne réagissent pas et ne modifient pas la bibliothèque
refusal-not-author-or-content-manager = seul l'auteur ou un gestionnaire du contenu peut modifier cet élément
refusal-not-the-versions-author = seule la personne qui a envoyé une version d'un fichier en envoie l'aperçu
refusal-last-manager-leaving = le dernier gestionnaire de l'espace doit en désigner un autre avant de partir
refusal-generations-exhausted = l'espace a eu autant de générations qu'un espace peut en avoir
refusal-no-longer-in-space = cet appareil ne fait plus partie de l'espace
refusal-confidential-space = un espace confidentiel n'accepte pas de demandes d'adhésion
refusal-requests-closed = l'espace n'accepte plus de demandes d'adhésion
refusal-device-approval-required = dans cet espace, un gestionnaire de l'espace approuve chaque nouvel appareil
refusal-only-own-devices = seuls les appareils d'une personne elle-même sont ajoutés de cette façon
refusal-no-identity-key = seul l'appareil qui détient la clé d'identité peut faire cela
refusal-fixed-history-mode = une modification du mode d'historique, qui est fixé à la création de l'espace
refusal-fixed-continues = une modification de l'espace dont celui-ci est la suite, qui est fixé à la création de l'espace
refusal-context-incomplete = il manque au contexte du groupe les règles, le registre ou les exigences de l'espace
refusal-unknown-extension = le contexte du groupe contient une extension que les espaces n'utilisent pas
refusal-ledger-mismatch = le registre d'historique de la modification diffère de l'historique des membres
refusal-ledger-dropped = la modification supprime le registre d'historique de l'espace
refusal-departing-role-kept = la modification conserve le rôle d'une personne qu'elle retire de l'espace
refusal-unknown-change = un type de modification que les espaces n'utilisent pas
refusal-identity-changed-in-update = la mise à jour d'un membre change son identité
refusal-device-not-on-roster = un appareil que la liste des appareils de son propriétaire ne mentionne pas
refusal-other = les règles de l'espace ne le permettent pas

refusal-manager-invite = seul un gestionnaire de l'espace peut inviter dans cet espace
refusal-manager-add-people = seul un gestionnaire de l'espace peut ajouter des personnes à cet espace
refusal-manager-admit = seul un gestionnaire de l'espace peut admettre des personnes dans cet espace
refusal-manager-readmit = seul un gestionnaire de l'espace peut réadmettre des personnes
refusal-manager-remove = seul un gestionnaire de l'espace peut retirer des personnes
refusal-manager-rename = seul un gestionnaire de l'espace peut renommer l'espace
refusal-manager-describe = seul un gestionnaire de l'espace peut modifier la description de l'espace
refusal-manager-change-rules = seul un gestionnaire de l'espace peut modifier les règles de l'espace
refusal-manager-change-roles = seul un gestionnaire de l'espace peut modifier les rôles
refusal-manager-device-approval = seul un gestionnaire de l'espace peut décider de la façon dont les appareils rejoignent l'espace
refusal-manager-add-others-device = seul un gestionnaire de l'espace peut ajouter un appareil à quelqu'un d'autre
refusal-manager-recreate = seul un gestionnaire de l'espace peut recréer un espace
refusal-manager-add-recreated-members = seul un gestionnaire de l'espace peut ajouter les membres d'un espace recréé
refusal-manager-hand-out-card = seul un gestionnaire de l'espace peut distribuer la carte de cet espace
refusal-manager-other = seul un gestionnaire de l'espace peut faire cela

## Ce qui n'a pas pu être vérifié

unverified-signature-device-certificate = la signature d'un certificat d'appareil n'est pas valide
unverified-signature-content = la signature d'un élément n'est pas valide
unverified-signature-presence = la signature d'un message de présence n'est pas valide
unverified-signature-contact-card = la signature d'une carte de contact n'est pas valide
unverified-signature-space-card = la signature d'une carte d'espace n'est pas valide
unverified-signature-link-request = la signature d'une demande de liaison n'est pas valide
unverified-signature-join-request = la signature d'une demande d'adhésion n'est pas valide
unverified-signature-identity-transition = la signature d'une transition d'identité n'est pas valide
unverified-signature-device-ready = la signature d'un avis « appareil prêt » n'est pas valide
unverified-signature-other = une signature n'est pas valide
unverified-invalid-key = une clé qui n'est pas valide
unverified-wrong-sender = envoyé par quelqu'un d'autre que l'expéditeur annoncé
unverified-not-on-roster = provenant d'un appareil que la liste des appareils de son propriétaire ne mentionne pas
unverified-unknown-author = d'un auteur dont cet appareil ne détient pas le certificat
unverified-wrong-person = d'une autre personne ou d'un autre appareil que celui annoncé
unverified-wrong-place = destiné à un autre endroit
unverified-does-not-open = scellé, et ne s'ouvre pas ici
unverified-malformed = mal formé
unverified-stale = daté hors du délai autorisé
unverified-replay = déjà reçu une fois (un rejeu)
unverified-history = des clés d'historique qui ne correspondent pas au registre de l'espace
unverified-chunk = un morceau de fichier qui ne correspond pas à son fichier
unverified-no-link-offer = aucune offre de liaison n'est ouverte sur cet appareil
unverified-link-secret-missing = une demande de liaison faite sans le secret de l'offre
unverified-not-a-link-offer = ce n'est pas une offre de liaison
unverified-not-a-link-request = ce n'est pas une demande de liaison
unverified-outdated-card = une carte de contact plus ancienne que la dernière liste d'appareils de la personne : demandez-lui-en une nouvelle
unverified-note-update = une modification de note mal formée, trop grande, ou qui insère du texte au nom d'un autre appareil
unverified-record-unknown-generation = un élément scellé avec une clé d'historique que cet appareil ne détient pas
unverified-record-after-its-generation = un élément scellé sous une génération déjà terminée
unverified-record-not-a-member = un élément dont l'appareil de l'auteur n'était pas membre pendant que sa génération était en cours
unverified-other = la vérification n'aboutit pas

## Saisie hors limites, ou appel qui n'a pas de sens pour l'instant

invalid-text-display-name = { $may_be_empty ->
    [false] un nom d'affichage doit être non vide, faire au plus { $max } octets et ne contenir aucun caractère de contrôle
   *[true] un nom d'affichage doit faire au plus { $max } octets et ne contenir aucun caractère de contrôle
}
invalid-text-space-name = { $may_be_empty ->
    [false] un nom d'espace doit être non vide, faire au plus { $max } octets et ne contenir aucun caractère de contrôle
   *[true] un nom d'espace doit faire au plus { $max } octets et ne contenir aucun caractère de contrôle
}
invalid-text-space-description = { $may_be_empty ->
    [false] une description d'espace doit être non vide, faire au plus { $max } octets et ne contenir aucun caractère de contrôle
   *[true] une description d'espace doit faire au plus { $max } octets et ne contenir aucun caractère de contrôle
}
invalid-text-node-name = { $may_be_empty ->
    [false] un nom doit être non vide, faire au plus { $max } octets et ne contenir aucun caractère de contrôle
   *[true] un nom doit faire au plus { $max } octets et ne contenir aucun caractère de contrôle
}
invalid-text-note = { $may_be_empty ->
    [false] une note doit être non vide, faire au plus { $max } octets et ne contenir aucun caractère de contrôle
   *[true] une note doit faire au plus { $max } octets et ne contenir aucun caractère de contrôle
}
invalid-text-text = { $may_be_empty ->
    [false] un texte doit être non vide, faire au plus { $max } octets et ne contenir aucun caractère de contrôle
   *[true] un texte doit faire au plus { $max } octets et ne contenir aucun caractère de contrôle
}
invalid-text-reaction = { $may_be_empty ->
    [false] une réaction doit être non vide, faire au plus { $max } octets et ne contenir aucun caractère de contrôle
   *[true] une réaction doit faire au plus { $max } octets et ne contenir aucun caractère de contrôle
}
invalid-text-join-note = { $may_be_empty ->
    [false] une note aux gestionnaires de l'espace doit être non vide, faire au plus { $max } octets et ne contenir aucun caractère de contrôle
   *[true] une note aux gestionnaires de l'espace doit faire au plus { $max } octets et ne contenir aucun caractère de contrôle
}
invalid-text-other = { $may_be_empty ->
    [false] un texte doit être non vide, faire au plus { $max } octets et ne contenir aucun caractère de contrôle
   *[true] un texte doit faire au plus { $max } octets et ne contenir aucun caractère de contrôle
}
invalid-too-many-file-bytes = un fichier fait au plus { $max } octets
invalid-too-many-library-items = une bibliothèque contient au plus { $max } éléments
invalid-too-many-file-versions = un fichier a au plus { $max } versions
invalid-too-many-explicit-roles = un espace attribue un rôle explicite à { $max } personnes au plus
invalid-too-many-observed-lists = au plus { $max } listes sont observées à la fois
invalid-too-many-pending-join-requests = au plus { $max } demandes d'adhésion peuvent attendre une réponse
invalid-too-many-devices = une personne a au plus { $max } appareils
invalid-too-many-contacts = le carnet de contacts contient au plus { $max } personnes
invalid-too-many-history-generations = un octroi d'historique contient au plus { $max } générations
invalid-too-many-sealed-bytes = au plus { $max } octets sont scellés à la fois
invalid-too-many-note-length = une note compte au plus { $max } caractères
invalid-too-many-note-versions = une note garde au plus { $max } versions nommées
invalid-too-many-chunk-offset = un morceau de fichier commence au plus à l'octet { $max }
invalid-too-many-other = au plus { $max }
invalid-not-text-contact-card = carte de contact non valide : vérifiez qu'elle a été copiée en entier
invalid-not-text-space-card = carte d'espace non valide : vérifiez qu'elle a été copiée en entier
invalid-not-text-verification-code = code de vérification non valide : vérifiez qu'il a été copié en entier
invalid-not-text-other = non valide : vérifiez que tout a été copié en entier
invalid-unknown-role = rôle inconnu : utilisez reader, contributor, content-manager ou space-manager
invalid-passphrase-too-short = une phrase de passe compte au moins { $min } caractères
invalid-passphrase-too-weak = la phrase de passe est trop facile à deviner : utilisez plusieurs mots sans rapport entre eux (six mots aléatoires font une phrase de passe solide)
invalid-passphrase-too-long = la phrase de passe est trop longue
invalid-kdf-params = les paramètres de la dérivation de clé sont hors limites
invalid-duress-same-as-passphrase = la phrase de passe sous contrainte doit être différente de celle du profil
invalid-no-duress-in-memory = un profil en mémoire n'a pas de phrase de passe sous contrainte
invalid-unexpected-answer = le relais a répondu avec un type de réponse inattendu
invalid-own-signer-mismatch = quelque chose que cet appareil a produit ne correspond pas à ses propres clés
invalid-sealing-failed = le scellement a échoué
invalid-sealed-record-malformed = un enregistrement scellé qui n'en est pas un
invalid-nothing-to-readmit = cette carte ne montre aucun nouvel appareil d'une personne à réadmettre
invalid-readmit-self = on réadmet quelqu'un d'autre, pas soi-même
invalid-awaiting-history = cet appareil attend l'historique de l'espace
invalid-not-stalled = seul un espace bloqué peut être recréé
invalid-already-recreated = l'espace a déjà été recréé
invalid-already-member = déjà dans cet espace
invalid-not-in-space = l'appareil ne fait plus partie de l'espace
invalid-item-too-large = un élément fait au plus environ { $max_kib } Kio
invalid-not-a-welcome = un élément de la boîte de réception n'est pas une invitation
invalid-space-from-older-release = un espace créé par une version antérieure : demandez à son gestionnaire de le recréer
invalid-unsupported-operation = une opération que les espaces n'utilisent pas
invalid-not-a-key-package = ce n'est pas un paquet de clés
invalid-already-moved = cet appareil est déjà passé ici à sa nouvelle identité
invalid-revoke-self = un appareil ne se révoque pas lui-même : utilisez l'effacement d'urgence
invalid-already-linked = cet appareil est déjà lié
invalid-already-has-account = ce profil a déjà un compte sur un relais
invalid-manifest-mismatch = une description de fichier dont les morceaux ne correspondent pas à sa longueur
invalid-file-changed = le fichier est plus long que sa longueur annoncée
invalid-image-metadata-unsupported = les métadonnées d’une image { $format } (comme le lieu de la prise de vue) ne peuvent pas être retirées : convertissez-la en JPEG ou PNG, ou envoyez-la en gardant ses métadonnées
invalid-image-metadata-malformed = cette image { $format } est endommagée : ses métadonnées (comme le lieu de la prise de vue) ne peuvent pas être retirées sûrement ; convertissez-la en JPEG ou PNG, ou envoyez-la en gardant ses métadonnées
invalid-image-metadata-too-large = cette image { $format } est trop grande pour que ses métadonnées (comme le lieu de la prise de vue) soient retirées : réduisez-la, ou envoyez-la en gardant ses métadonnées
invalid-no-recipient = un avis sans appareil destinataire
invalid-no-recovery-words = une clé d'identité n'a pas de mots de récupération
invalid-rules-malformed = des règles d'espace mal formées
invalid-other = non valide ici

## Mots de récupération

recovery-wrong-count = { $expected } mots attendus, { $given ->
    [one] { $given } fourni
   *[other] { $given } fournis
}
recovery-unknown-word = le mot { $position } n'est pas dans la liste
recovery-mismatch = ils ne vont pas ensemble (un mot mal tapé ou dans le désordre ?)
recovery-not-a-set = ce n'est pas un ensemble valide
recovery-other = ils ne sont pas valides

## Ce que le relais a répondu

relay-bad-request = requête incorrecte
relay-unsupported-version = version de protocole non prise en charge ; le relais parle la version { $supported }
relay-auth-required = authentifiez-vous d'abord
relay-auth-failed = échec de l'authentification
relay-invitation-invalid = invitation non valide, déjà utilisée ou expirée
relay-forbidden = accès au groupe refusé
relay-not-found = introuvable
relay-conflict = en conflit avec ce qui est enregistré
relay-stale-epoch = le groupe a avancé (époque { $current })
relay-quota-exceeded = stockage plein : { $used } octets utilisés sur { $quota }
relay-limit-exceeded = une limite du relais est atteinte
relay-rate-limited = trop de requêtes ; réessayez dans { $seconds } s
relay-internal = défaillance du relais
relay-other = le relais a refusé

## Le type d'échec que porte un événement

fault-unverified = échec de la vérification : { $reason }
fault-forbidden = non autorisé : { $reason }
fault-not-found = introuvable : { $what }
fault-relay = le relais a refusé : { $reason }
fault-malformed = données mal formées
fault-mls = le chiffrement du groupe l'a refusé
fault-invalid = saisie non valide : { $reason }
fault-space-stalled = l'espace est bloqué
fault-identity-changed = une clé d'identité a changé
fault-store = le stockage local a échoué
fault-connection = la connexion a échoué
fault-other = une défaillance interne

## Travail refusé ou abandonné

rejection-step-failed = une étape a échoué : { $reason }
rejection-sign-in-failed = connexion impossible : { $reason }
rejection-request-not-prepared = impossible de préparer une requête : { $reason }
rejection-invitation-refused = une invitation a été refusée : { $reason }
rejection-log-entry = entrée de journal { $position } refusée : { $reason }
rejection-content-record = enregistrement de contenu { $seq } refusé : { $reason }
rejection-no-usable-key-package = l'invitation a échoué : aucun des appareils de la personne n'a de paquet de clés utilisable
rejection-delivery-failed = une invitation n'a pas pu être remise à l'un des appareils : { $reason }
rejection-join-request-undelivered = la demande d'adhésion n'a pas pu être remise : { $reason }
rejection-upload-dropped = un envoi a été abandonné : cet appareil ne peut plus écrire dans l'espace
rejection-download-dropped = un téléchargement a été abandonné : cet appareil ne fait plus partie de l'espace
rejection-unsent-item-dropped = un élément non envoyé a été abandonné : cet appareil ne fait plus partie de l'espace
rejection-operation-dropped = une opération a été abandonnée : { $reason }
rejection-other = quelque chose a été refusé

## Avertissements de sécurité

warning-revoked-by-new-identity = la clé d'identité de cette personne a été remplacée, et cet appareil a été laissé de côté : il a été révoqué
warning-revoked-by-own-device = un autre appareil de cette personne a révoqué cet appareil
warning-conflicting-rosters = deux listes d'appareils différentes d'une même personne sous la même version : sa clé d'identité est peut-être entre d'autres mains
warning-commits-withheld = le relais indique que cet espace a avancé, mais ne fournit aucune modification qui y mène : il cache peut-être à cet appareil les modifications de l'espace
warning-log-access-refused = le relais a refusé à cet appareil l'accès au journal de l'espace
warning-log-entries-skipped = le relais a sauté les entrées de journal { $first } à { $last } : des messages ont peut-être été retenus
warning-content-records-skipped = le relais a sauté les enregistrements de contenu { $first } à { $last } : des éléments ont peut-être été retenus
warning-history-grant-refused = { $from } a remis à cet appareil un historique qui ne correspond pas au registre de l'espace ({ $reason }) ; il a été refusé
warning-stalled-by = { $by } a fait une modification que son rôle ne permet pas ({ $reason }) ; elle a été refusée, et l'espace est bloqué jusqu'à ce qu'un gestionnaire de l'espace le recrée sans cette personne
warning-stalled = le relais a accepté une modification qu'aucun appareil ne peut appliquer ({ $reason }) ; l'espace est bloqué jusqu'à ce qu'un gestionnaire de l'espace le recrée
warning-author-not-sender = un élément annonçait un autre auteur que son expéditeur ; il a été refusé
warning-note-contradicted = { $by } a envoyé une seconde version d'un texte écrit dans une note ; cet appareil garde la première, mais qui lira la note plus tard pourrait voir la seconde
warning-unasked-device = le relais a répondu à une demande avec un appareil qui n'avait pas été demandé
warning-foreign-key-package = le relais a fourni un paquet de clés qui n'appartient à aucun appareil de la personne invitée : { $reason }
warning-other = quelque chose semble anormal

## Remises en attente

delay-quota-full = une invitation n'a pas encore pu être remise (le stockage de ce compte sur le relais est plein) ; elle sera renvoyée
delay-inbox-full = une invitation n'a pas encore pu être remise (la boîte de réception de la personne invitée sur le relais est pleine) ; elle sera renvoyée
delay-other = une remise est en attente ; elle sera renvoyée

## Rôles, politiques, modes d'historique

role-reader = lecteur
role-contributor = contributeur
role-content-manager = gestionnaire du contenu
role-space-manager = gestionnaire de l'espace
policy-open = ouvert
policy-on-request = sur demande
policy-confidential = confidentiel
history-keep = historique conservé
history-none = sans historique

## Événements

event-account-created = Compte créé.
event-invited = { $by } vous invite dans « { $space } ».
event-joined = Vous êtes dans « { $space } ».
event-removed = Vous ne faites plus partie de « { $space } ».
event-recreated = « { $space } » a été recréé sans le membre qui l'avait bloqué ; il continue sous { $successor }.
event-uploaded = Un fichier de { $bytes } octets a été envoyé dans « { $space } ».
event-downloaded = Un fichier de { $bytes } octets a été téléchargé depuis « { $space } ».
event-library-changed = La bibliothèque de « { $space } » a changé.
event-note-changed = Une note de « { $space } » a changé.
event-note-version-named = Une version d'une note de « { $space } » a été nommée.
event-notify-post = { $from } a publié dans « { $space } »
event-notify-reply = { $from } vous a répondu dans « { $space } »
event-notify-reaction = { $from } a réagi à votre élément dans « { $space } »
event-join-admitted = { $name } ({ $identity }) a demandé à rejoindre « { $space } », et sa demande a été acceptée.
event-join-requested = { $name } ({ $identity }) demande à rejoindre « { $space } ».
event-identity-changed = { $was_verified ->
    [true] SÉCURITÉ : la clé d'identité de { $name } a changé ({ $previous } -> { $current }) ; l'ancienne clé avait été vérifiée. Rien n'est fait avec la nouvelle clé tant que vous n'avez pas comparé les numéros de sécurité et ne l'avez pas acceptée.
   *[false] SÉCURITÉ : la clé d'identité de { $name } a changé ({ $previous } -> { $current }). Rien n'est fait avec la nouvelle clé tant que vous n'avez pas comparé les numéros de sécurité et ne l'avez pas acceptée.
}
event-device-added = Un nouvel appareil de { $name } ({ $device }) a rejoint « { $space } » : à partir de maintenant, il lit tout ce qui s'y trouve.
event-identity-rotated = SÉCURITÉ : { $name } a remplacé sa clé d'identité ({ $previous } -> { $current }), par une transition signée avec l'ancienne clé. Comparez de nouveau vos numéros de sécurité avant de lui faire confiance.
event-delivery-waiting = Dans « { $space } » : { $reason }.
event-rejected = refusé : { $reason }
event-security-warning-in = SÉCURITÉ dans « { $space } » : { $reason }
event-security-warning = SÉCURITÉ : { $reason }
