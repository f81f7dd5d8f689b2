# Ce que dit le client en ligne de commande `huisclos`. Les noms des commandes, les options
# et les mots qu'une personne tape (yes, WIPE, noms de politiques sur la ligne de commande)
# restent tels qu'ils sont écrits ici dans toutes les langues : ils font partie de la
# commande, et des scripts les tapent.

## Ce qu'il dit

cli-profile-created = Profil créé dans { $dir }. Rejoignez ensuite un relais : huisclos join INVITATION
cli-joined = Relais rejoint ; compte { $account }.
cli-queued = Enregistré ; ce sera envoyé à la prochaine synchronisation.
cli-offline = Hors ligne ({ $why }) ; tout reste en file d'attente pour la prochaine synchronisation.
cli-sync-done = À jour : { $spaces ->
        [one] { $spaces } espace
       *[other] { $spaces } espaces
    }, { $outbox ->
        [one] { $outbox } élément en attente d'envoi.
       *[other] { $outbox } éléments en attente d'envoi.
    }
cli-space-created = Espace « { $name } » créé ({ $id }).
cli-invited = Invitation pour { $name } mise en file d'attente.
cli-item-queued = Élément { $id } enregistré.
cli-nothing-here = Rien ici pour l'instant.
cli-link-offer-shown = Montrez cette offre au nouvel appareil (huisclos init --name NAME --link OFFER sur celui-ci), puis approuvez sa demande ici avec : huisclos devices approve REQUEST
cli-link-request-shown = Approuvez cette demande sur votre appareil existant (huisclos devices approve REQUEST). Les deux appareils affichent le code de confirmation { $code }.
cli-link-confirm = Lier l'appareil « { $name } » avec le code de confirmation { $code } ? Tapez yes pour approuver :
cli-link-approved = Appareil « { $name } » approuvé ; il reçoit maintenant votre identité.
cli-link-declined = Non approuvé ; rien n'a été envoyé.
cli-link-waiting = En attente de l'approbation…
cli-linked = Cet appareil est maintenant lié à l'identité de { $name }.
cli-watching = Surveillance des nouveaux événements (Ctrl-C pour arrêter)…
cli-verified = Le contact { $name } est marqué comme vérifié.
cli-key-accepted = La nouvelle clé d'identité de { $name } est acceptée (non vérifiée : comparez les numéros de sécurité).
cli-safety-number = Numéro de sécurité avec { $name } (comparez-le avec le sien, en personne ou lors d'un appel de confiance) :
cli-request-sent = Demande d'adhésion à « { $space } » envoyée ; vous rejoindrez l'espace une fois qu'elle aura été approuvée.
cli-duress-set = Phrase de passe sous contrainte définie. Saisie à la place de la vôtre, elle détruit ce profil et ouvre le leurre créé à l'instant.
cli-delete-keeps-relay-copy = Remarque : l'élément est supprimé des fils des membres, mais pas du relais, où il reste scellé et lisible par tous les membres.
cli-identity-key-replaced = Votre clé d'identité a été remplacée ; vos contacts en sont informés et devraient comparer de nouveau leurs numéros de sécurité avec vous. Notez vos nouveaux mots de récupération : huisclos recovery-words
cli-device-revoked = Appareil « { $name } » révoqué : le relais le refuse, et il est retiré de vos espaces.
cli-wipe-confirm = Cette opération détruit le profil pour de bon : rien de ce qu'il contient ne pourra plus être lu. Tapez WIPE pour continuer :
cli-wipe-declined = Rien n'a été effacé.
cli-wiped = Le profil est détruit.
cli-recovered = Identité { $identity } restaurée sur ce nouvel appareil. Rejoignez le relais avec une nouvelle invitation (huisclos join INVITATION), puis remettez votre carte de contact (huisclos whoami) à un gestionnaire de chacun de vos espaces : il vous réadmettra avec huisclos space readmit.
cli-recovery-words-confirm = Quiconque lit ces mots peut se faire passer pour vous. Assurez-vous que personne ni aucune caméra ne voit l'écran. Les afficher ? Tapez yes :
cli-recovery-words-shown = Écrivez ces 24 mots sur papier, dans l'ordre, et conservez-les loin de cet appareil. Avec une nouvelle invitation, ils restaurent votre identité sur un nouvel appareil (huisclos init --recover).
cli-readmitted = Réadmission de { $name } : ses anciens appareils seront retirés, son nouvel appareil ajouté.
cli-done = Terminé.

## Indications après un événement : la commande qui y répond

cli-hint-accept-invitation = Acceptez avec : huisclos space accept { $id }
cli-hint-decide-request = Décidez avec : huisclos space requests { $id }
cli-hint-accept-key = Lancez ensuite : huisclos accept-key { $name }

## Pourquoi une commande ne peut pas être exécutée telle qu'elle a été tapée

cli-problem-not-an-invitation = ce n'est pas une invitation : { $error }
cli-problem-note-path = indiquez le chemin d'une note
cli-problem-not-a-note = { $path } n'est pas une note
cli-problem-editor-failed = l'éditeur n'a pas abouti : la note est inchangée
cli-problem-top-does-not-move = la racine de la bibliothèque ne peut pas être déplacée
cli-problem-no-item-at = aucun élément à { $path }
cli-problem-no-such-version = { $count ->
    [0] aucune version de cette note ne commence par « { $typed } » (voir note-log)
   *[other] { $count } versions commencent par « { $typed } » : tapez plus de l'identifiant
}
cli-problem-top-not-trashed = la racine de la bibliothèque ne va pas à la corbeille
cli-problem-trashed-path = indiquez le chemin d'un élément mis à la corbeille
cli-problem-no-usable-file-name = { $path } n'a pas de nom de fichier utilisable
cli-problem-is-a-note = { $path } est une note, pas un fichier
cli-problem-file-path = indiquez le chemin d'un fichier
cli-problem-devices-match = { $count ->
        [one] { $count } de vos autres appareils correspond à « { $typed } » : utilisez l'identifiant donné par huisclos devices list
       *[other] { $count } de vos autres appareils correspondent à « { $typed } » : utilisez l'identifiant donné par huisclos devices list
    }
cli-problem-not-approved-in-time = pas approuvé à temps ; relancez la même commande pour continuer d'attendre
cli-problem-no-recovery-words = aucun mot de récupération fourni : tapez-les quand ils sont demandés, ou définissez { $var } dans les scripts
cli-problem-link-without-engine = la liaison est terminée, mais l'appareil n'est pas prêt : relancez la commande
cli-problem-no-match = { $what ->
        [space] aucun espace ne correspond à « { $typed } »
        [person] aucune personne ne correspond à « { $typed } »
        [device] aucun appareil ne correspond à « { $typed } »
       *[item] aucun élément ne correspond à « { $typed } »
    }
cli-problem-many-match = { $what ->
        [space] { $count } espaces correspondent à « { $typed } » : tapez une plus grande partie de l'identifiant
        [person] { $count } personnes correspondent à « { $typed } » : tapez une plus grande partie de l'identifiant
        [device] { $count } appareils correspondent à « { $typed } » : tapez une plus grande partie de l'identifiant
       *[item] { $count } éléments correspondent à « { $typed } » : tapez une plus grande partie de l'identifiant
    }
cli-problem-not-an-item-id = « { $typed } » n'est pas un identifiant d'élément (au moins 4 chiffres hexadécimaux)
cli-problem-path-ends-with-name = un chemin se termine par un nom
cli-problem-no-profile-directory = aucun répertoire de profil : passez --profile DIR ou définissez HUISCLOS_PROFILE
cli-problem-not-utf8 = { $var } n'est pas de l'UTF-8 valide
cli-problem-no-passphrase = aucune phrase de passe : tapez-la dans un terminal ou définissez { $var }
cli-problem-no-duress-passphrase = aucune phrase de passe sous contrainte : tapez-la ou définissez { $var }
cli-problem-passphrases-differ = les deux phrases de passe diffèrent ; rien n'a été modifié
cli-problem-passphrase-too-weak = cette phrase de passe est trop courte ou trop facile à deviner : utilisez au moins { $min } caractères, plusieurs mots sans rapport entre eux. Six mots aléatoires font une phrase de passe solide, par exemple : { $suggestion }
cli-problem-profile-exists = un profil existe déjà dans { $dir }
cli-problem-no-profile-in = aucun profil dans { $dir } : créez-en un avec huisclos init --name NAME
cli-problem-waits-to-be-linked = cet appareil attend d'être lié : relancez huisclos init --link pour terminer, une fois l'approbation donnée
cli-problem-no-relay = ce profil n'a rejoint aucun relais : lancez huisclos join INVITATION
cli-problem-unknown-policy = politique inconnue « { $typed } » : utilisez open, on-request ou confidential
cli-problem-unknown-language = langue inconnue « { $typed } » : utilisez en, fr, de, ar ou pt

## Ce qu'il demande

cli-prompt-passphrase = Phrase de passe :
cli-prompt-new-passphrase = Nouvelle phrase de passe :
cli-prompt-same-passphrase = Répétez la phrase de passe :
cli-prompt-duress-passphrase = Phrase de passe sous contrainte :
cli-prompt-same-duress-passphrase = Répétez la phrase de passe sous contrainte :
cli-prompt-recovery-words = Vos 24 mots de récupération, séparés par des espaces :

## Mots de ses listes

cli-word-name = nom :
cli-word-identity = identité :
cli-word-account = compte :
cli-word-device = appareil :
cli-word-card = carte :
cli-word-key-changed = CLÉ MODIFIÉE
cli-word-verified = vérifié
cli-word-not-verified = non vérifié
cli-word-unread = { $count ->
        [one] { $count } non lu
       *[other] { $count } non lus
    }
cli-word-left = quitté
cli-word-stalled = bloqué
cli-word-muted = en sourdine
cli-word-your-role = vous : { $role }
cli-word-edited = (modifié)
cli-word-replaced-by = (texte remplacé par { $name }, gestionnaire du contenu)
cli-word-removed-by = (retiré par { $name }, gestionnaire du contenu)
cli-word-deleted = (supprimé)
cli-word-this-device = (cet appareil)
cli-word-folder = dossier
cli-word-file = fichier
cli-word-note = note
cli-word-file-size = { $bytes } octets, { $versions ->
        [one] { $versions } version
       *[other] { $versions } versions
    }
cli-word-devices = { $count ->
        [one] { $count } appareil
       *[other] { $count } appareils
    }
cli-word-security = SÉCURITÉ :
cli-word-refused = refusé :
