# Ce qu'affichent les écrans de l'application de bureau. Les noms des personnes et des
# espaces sont des variables ; Fluent les isole, et les écrans placent le contenu des
# utilisateurs dans des éléments qui ont leur propre sens d'écriture (dir="auto").

## Premier lancement et déverrouillage

desktop-welcome-title = Bienvenue dans Huis Clos
desktop-welcome-intro = Un lieu chiffré de bout en bout pour votre réseau. Ce que vous écrivez est scellé sur cet ordinateur avant d'en partir, et seuls les membres d'un espace peuvent le lire.
desktop-create-heading = Créez votre profil
desktop-name-label = Votre nom, tel que les autres le voient
desktop-passphrase-label = Phrase de passe
desktop-passphrase-again-label = Répétez la phrase de passe
desktop-passphrases-differ = Les deux phrases de passe diffèrent.
desktop-passphrase-strength = Robustesse : { $strength ->
    [0] très faible
    [1] faible
    [2] moyenne
    [3] solide
   *[4] très solide
}
desktop-passphrase-rule = Au moins { $min } caractères, plusieurs mots sans rapport entre eux.
desktop-suggest-button = Suggérer une phrase de passe solide
desktop-create-button = Créer le profil
desktop-unlock-heading = Déverrouillez votre profil
desktop-unlock-button = Déverrouiller
desktop-join-heading = Rejoignez le relais de votre réseau
desktop-join-intro = Collez l'invitation que vous a remise l'opérateur du relais.
desktop-invitation-label = Invitation
desktop-join-button = Rejoindre

## La fenêtre

desktop-nav-label = Navigation principale
desktop-spaces-heading = Espaces
desktop-no-spaces = Aucun espace pour l'instant. Créez-en un, ou attendez une invitation.
desktop-unread = { $count ->
    [one] { $count } élément non lu
   *[other] { $count } éléments non lus
}
desktop-new-space-button = Nouvel espace
desktop-card-button = Ma carte de contact
desktop-settings-button = Paramètres
desktop-sync-button = Synchroniser maintenant
desktop-connection-online = Connecté
desktop-connection-offline = Hors ligne : ce que vous écrivez attend d'être envoyé
desktop-connection-via = Connecté par { $transport }
desktop-connection-retrying = nouvel essai dans { $seconds } s
desktop-item-waiting = En attente d’envoi
desktop-waiting-to-send = { $count ->
    [one] { $count } élément en attente d'envoi
   *[other] { $count } éléments en attente d'envoi
}
desktop-close-button = Fermer
desktop-cancel-button = Annuler

## Un nouvel espace

desktop-new-space-heading = Nouvel espace
desktop-space-name-label = Nom
desktop-space-description-label = Description (facultative)
desktop-space-policy-label = Qui peut rejoindre l'espace
desktop-space-history-label = Les nouveaux membres lisent ce qui a été écrit avant leur arrivée
desktop-create-space-button = Créer l'espace

## Invitations

desktop-invitations-heading = Invitations
desktop-invitation = { $by } vous invite dans « { $space } ».
desktop-invitation-unknown = Vous êtes invité·e dans « { $space } ».
desktop-accept-button = Accepter

## Un espace

desktop-feed-heading = Fil
desktop-members-heading = Membres
desktop-feed-empty = Rien n'a encore été publié ici.
desktop-composer-label = Écrire dans l'espace
desktop-post-button = Publier
desktop-comment-label = Votre réponse
desktop-comment-button = Répondre
desktop-react-button = Réagir avec { $reaction }
desktop-edited = modifié
desktop-deleted = Cet élément a été supprimé.
desktop-load-more-button = Publications plus anciennes
desktop-invite-heading = Inviter quelqu'un
desktop-card-label = Sa carte de contact
desktop-role-label = Rôle
desktop-invite-button = Inviter
desktop-invite-sent = L'invitation est en route.
desktop-member-devices = { $count ->
    [one] { $count } appareil
   *[other] { $count } appareils
}

## Votre carte de contact

desktop-card-heading = Votre carte de contact
desktop-card-help = Donnez cette carte à la personne qui vous invitera dans un espace : elle la collera dans son application.

## Paramètres

desktop-settings-heading = Paramètres
desktop-language-label = Langue
desktop-lock-button = Verrouiller maintenant
desktop-wipe-heading = Effacement d'urgence
desktop-wipe-help = Détruit immédiatement ce profil sur cet ordinateur : rien de ce qu'il contient ne pourra plus être lu.
desktop-wipe-confirm-label = Tapez WIPE pour confirmer
desktop-wipe-button = Effacer ce profil
desktop-wiped = Le profil est détruit.

## Ce qui s'est passé

desktop-security-heading = Sécurité
desktop-refused-heading = Refusé

## Les sections d'un espace

desktop-space-sections-label = Sections de cet espace
desktop-tab-feed = Fil
desktop-tab-library = Bibliothèque
desktop-tab-members = Membres

## Modifier ce qui a été écrit

desktop-edit-button = Modifier
desktop-edit-label = Le nouveau texte
desktop-save-button = Enregistrer
desktop-delete-button = Supprimer
desktop-delete-confirm = Supprimer ceci pour tout le monde ?
desktop-edited-by-moderator = modifié par une personne modératrice
desktop-yes-button = Oui
desktop-no-button = Non

## Membres, demandes d'adhésion, carte de l'espace

desktop-you = (vous)
desktop-role-of = Rôle de { $name }
desktop-role-changed = { $name } a un nouveau rôle.
desktop-remove-button = Retirer
desktop-remove-confirm = Retirer { $name } de cet espace ? Rien de ce qui sera écrit ensuite ne lui sera lisible.
desktop-member-removed = { $name } a été retiré·e.
desktop-requests-heading = Demandes d'adhésion
desktop-requests-empty = Personne n'attend pour rejoindre l'espace.
desktop-approve-button = Approuver
desktop-decline-button = Refuser
desktop-space-card-heading = La carte de cet espace
desktop-space-card-help = Qui détient cette carte peut demander à rejoindre l'espace ; une personne gestionnaire de l'espace décide.
desktop-show-card-button = Afficher la carte
desktop-qr-alt = Code QR de la carte ci-dessous
desktop-leave-heading = Quitter cet espace
desktop-leave-button = Quitter
desktop-leave-confirm = Quitter « { $space } » ? Il vous faudra une nouvelle invitation pour revenir.

## La bibliothèque

desktop-folder-path-label = Dossier
desktop-library-top = Bibliothèque
desktop-upload-button = Envoyer des fichiers
desktop-new-folder-button = Nouveau dossier
desktop-new-note-button = Nouvelle note
desktop-drop-hint = ou déposez des fichiers ici
desktop-folder-name-label = Nom du dossier
desktop-note-name-label = Nom de la note
desktop-create-button-short = Créer
desktop-folder-empty = Ce dossier est vide.
desktop-kind-folder = dossier
desktop-kind-file = fichier
desktop-kind-note = note
desktop-rename-button = Renommer
desktop-rename-label = Nouveau nom
desktop-trash-button = Mettre à la corbeille
desktop-show-trash-button = Afficher la corbeille
desktop-hide-trash-button = Masquer la corbeille
desktop-trash-heading = Corbeille
desktop-trash-empty = La corbeille est vide.
desktop-restore-button = Restaurer
desktop-download-button = Télécharger
desktop-versions-button = Versions
desktop-preview-alt = Aperçu de { $name }
desktop-keep-metadata = Garder les métadonnées des photos
desktop-keep-metadata-warning = Les photos envoyées maintenant gardent le lieu et l’heure de la prise de vue et l’appareil : tous les membres peuvent les lire. Seulement pour des preuves dont l’origine doit se voir.
desktop-versions-count = { $count ->
    [one] { $count } version
   *[other] { $count } versions
}
desktop-version = Version { $number }
desktop-uploading = Envoi de { $name }
desktop-downloading = Téléchargement de { $name }
desktop-upload-done = Envoyé.
desktop-download-done = Enregistré dans vos téléchargements sous le nom { $name }.
desktop-file-too-large = { $name } est trop volumineux pour être envoyé d'ici (au plus { $max }).

## Une note

desktop-back-button = Retour
desktop-preview-button = Aperçu
desktop-note-text-label = Texte de la note, en Markdown
desktop-note-saved = Enregistrée et scellée.
desktop-note-also-here = Aussi dans cette note : { $names }

## Appareils et contacts

desktop-people-button = Appareils et contacts
desktop-people-heading = Appareils et contacts
desktop-devices-heading = Vos appareils
desktop-this-device = (cet ordinateur)
desktop-device-since = associé le { $date }
desktop-revoke-button = Révoquer
desktop-revoke-confirm = Révoquer { $name } ? Rien de ce qui sera écrit ensuite ne lui sera lisible.
desktop-link-button = Associer un nouvel appareil
desktop-link-heading = Offre pour un nouvel appareil
desktop-link-help = Sur le nouvel appareil, choisissez de l'associer à une personne existante et donnez-lui cette offre. Il affiche alors une demande : collez-la ci-dessous.
desktop-link-request-label = La demande du nouvel appareil
desktop-link-check-button = Vérifier la demande
desktop-link-code-help = Le nouvel appareil affiche un code. N'approuvez que si c'est celui-ci :
desktop-link-approve-button = Approuver cet appareil
desktop-link-approved = { $name } est associé.
desktop-contacts-heading = Contacts
desktop-contacts-empty = Pas encore de contacts : les personnes avec qui vous partagez un espace apparaissent ici.
desktop-verified = vérifié
desktop-not-verified = non vérifié
desktop-key-changed = La clé de { $name } a changé. Comparez à nouveau les numéros de sécurité avant de lui faire confiance.
desktop-safety-number-button = Numéro de sécurité
desktop-safety-number-help = Comparez ce numéro avec { $name }, en personne ou par un appel de confiance. S'il est identique, marquez le contact comme vérifié.
desktop-mark-verified-button = Marquer comme vérifié
desktop-accept-key-button = Accepter la nouvelle clé
desktop-accept-key-confirm = Accepter la nouvelle clé de { $name } ? Ne le faites qu'après avoir comparé les numéros de sécurité.

## Verrouillage

desktop-lock-after-label = Verrouiller après cette durée sans utilisation
desktop-lock-never = Jamais
desktop-lock-after-minutes = { $count ->
    [one] { $count } minute
   *[other] { $count } minutes
}

## Mots de récupération et phrase de contrainte

desktop-words-heading = Mots de récupération
desktop-words-intro = Ces 24 mots sont votre identité. Si cet ordinateur est perdu, ils vous permettent de revenir sur un nouveau. Écrivez-les sur papier, dans l’ordre, et gardez ce papier loin de cet ordinateur.
desktop-words-warning = Quiconque lit ces mots peut se faire passer pour vous. Ne les photographiez jamais, ne les tapez nulle part ailleurs.
desktop-words-written-button = Je les ai écrits
desktop-words-check-heading = Vérifiez-en deux
desktop-word-at-label = Mot numéro { $position }
desktop-words-check-button = Vérifier
desktop-words-show-again-button = Revoir les mots
desktop-words-wrong = Ce n’est pas le mot à cette place. Relisez votre papier.
desktop-words-settings-help = Tapez votre phrase de passe pour revoir vos mots de récupération.
desktop-words-show-button = Afficher les mots de récupération
desktop-words-hide-button = Masquer les mots
desktop-duress-heading = Phrase de contrainte
desktop-duress-help = Si quelqu’un vous force à déverrouiller cet ordinateur, tapez cette phrase au lieu de la vôtre : votre profil est détruit sans laisser de trace et un profil anodin s’ouvre à sa place.
desktop-duress-current-label = Votre phrase de passe
desktop-duress-label = Phrase de contrainte
desktop-decoy-name-label = Nom dans le profil anodin (le vôtre si vide)
desktop-decoy-invitation-label = Une invitation au relais pour le profil anodin (facultatif)
desktop-duress-set = La phrase de contrainte est enregistrée.
desktop-duress-button = Définir la phrase de contrainte

## Notifications

desktop-notifications-label = Notifications
desktop-notifications-off = Aucune
desktop-notifications-without-content = Sans contenu (seulement qu’il y a du nouveau)
desktop-notifications-with-content = Avec l’espace, le nom et le texte
desktop-notifications-help = Une notification peut être lue à l’écran et le système la garde, même quand l’application est verrouillée.
desktop-notify-without-content = Du nouveau dans l’un de vos espaces.
desktop-notify-post = { $name } : { $text }
desktop-notify-reply = { $name } vous a répondu : { $text }
desktop-notify-reaction = { $name } a réagi à ce que vous avez écrit.

## Images QR et demandes pour rejoindre

desktop-qr-open-button = Ouvrir une image QR
desktop-qr-not-an-image = Ce fichier n’est pas une image que l’application sait lire (PNG, JPEG ou GIF, 20 Mo au plus).
desktop-qr-none = Aucun code QR n’a pu être lu dans cette image.
desktop-ask-heading = Demander à rejoindre un espace
desktop-space-card-label = La carte de l’espace
desktop-ask-note-label = Un mot pour les gestionnaires de l’espace (facultatif)
desktop-ask-button = Demander à rejoindre
desktop-asked = Votre demande est envoyée. L’espace apparaîtra ici une fois que vous serez admis.

## Relier cet ordinateur à une personne existante

desktop-link-this-question = Vous utilisez déjà Huis Clos sur un autre appareil ?
desktop-link-this-button = Y relier cet ordinateur
desktop-link-this-heading = Relier cet ordinateur
desktop-link-this-intro = Sur votre autre appareil, ouvrez Appareils et choisissez de relier un nouvel appareil. Collez ici l’offre qu’il affiche, ou ouvrez une image de son code QR.
desktop-link-offer-label = L’offre de votre autre appareil
desktop-link-start-button = Demander à être relié
desktop-link-request-help = Sur votre autre appareil, collez cette demande (ou scannez son code QR) là où il demande la requête du nouvel appareil.
desktop-link-request-qr-alt = La demande de cet ordinateur, en code QR
desktop-link-request-shown-label = La demande de cet ordinateur
desktop-link-code-compare = Votre autre appareil affiche alors un code. N’approuvez là-bas que si c’est celui-ci :
desktop-link-waiting = En attente de l’approbation…
desktop-link-cancel-button = Renoncer à relier
desktop-link-cancel-confirm = Renoncer à relier cet ordinateur ? Ce qu’il a préparé est détruit, et vous pourrez recommencer.

## Ouverture par le trousseau du système

desktop-protection-label = Comment ce profil s’ouvre
desktop-protection-passphrase = Avec une phrase de passe que je tape à chaque fois
desktop-protection-keychain = Avec le trousseau de cet ordinateur, sans phrase de passe
desktop-protection-keychain-warning = Quiconque peut ouvrir votre session sur cet ordinateur peut alors ouvrir Huis Clos, et aucune phrase de contrainte n’est possible. Choisissez une phrase de passe si l’ordinateur risque d’être saisi.
desktop-unlock-keychain-help = Ce profil s’ouvre avec le trousseau de cet ordinateur.
desktop-duress-needs-passphrase = Une phrase de contrainte demande un profil ouvert par phrase de passe ; celui-ci s’ouvre avec le trousseau.

## Comparer par codes QR

desktop-verify-qr-help = Ou comparez par codes QR : { $name } scanne le vôtre, et vous ouvrez une image du sien.
desktop-verify-qr-alt = Votre code, à scanner par { $name }
desktop-verify-scan-button = Ouvrir une image du code de { $name }
desktop-verify-match = Les codes correspondent : { $name } est vérifié·e.
desktop-verify-mismatch = Les codes ne correspondent pas. Ne faites pas confiance à ce contact avant de savoir pourquoi : quelqu’un est peut-être entre vous, ou la clé de { $name } a changé.
