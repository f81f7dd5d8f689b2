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
