# What the desktop app's screens say. The names of people and spaces are variables;
# Fluent isolates them, and the screens put user content in elements of its own
# direction (dir="auto").

## First run and unlocking

desktop-welcome-title = Boas-vindas ao Huis Clos
desktop-welcome-intro = Um lugar com criptografia de ponta a ponta para a sua rede. O que você escreve é selado neste computador antes de sair dele, e só os membros de um espaço podem ler.
desktop-create-heading = Crie seu perfil
desktop-name-label = Seu nome, como os outros o veem
desktop-passphrase-label = Frase-senha
desktop-passphrase-again-label = Repita a frase-senha
desktop-passphrases-differ = As duas frases-senha são diferentes.
desktop-passphrase-strength = Força: { $strength ->
    [0] muito fraca
    [1] fraca
    [2] razoável
    [3] forte
   *[4] muito forte
}
desktop-passphrase-rule = Pelo menos { $min } caracteres, com várias palavras sem relação entre si.
desktop-suggest-button = Sugerir uma frase-senha forte
desktop-create-button = Criar o perfil
desktop-unlock-heading = Desbloqueie seu perfil
desktop-unlock-button = Desbloquear
desktop-join-heading = Entre no relay da sua rede
desktop-join-intro = Cole o convite que você recebeu do operador do relay.
desktop-invitation-label = Convite
desktop-join-button = Entrar

## The window

desktop-nav-label = Navegação principal
desktop-spaces-heading = Espaços
desktop-no-spaces = Nenhum espaço ainda. Crie um ou aguarde um convite.
desktop-unread = { $count ->
    [one] { $count } item não lido
   *[other] { $count } itens não lidos
}
desktop-new-space-button = Novo espaço
desktop-card-button = Meu cartão de contato
desktop-settings-button = Configurações
desktop-sync-button = Sincronizar agora
desktop-connection-online = Conectado
desktop-connection-offline = Sem conexão: o que você escreve aguarda envio
desktop-waiting-to-send = { $count ->
    [one] { $count } item aguardando envio
   *[other] { $count } itens aguardando envio
}
desktop-close-button = Fechar
desktop-cancel-button = Cancelar

## A new space

desktop-new-space-heading = Novo espaço
desktop-space-name-label = Nome
desktop-space-description-label = Descrição (opcional)
desktop-space-policy-label = Quem pode entrar
desktop-space-history-label = Novos membros leem o que foi escrito antes de entrarem
desktop-create-space-button = Criar o espaço

## Invitations

desktop-invitations-heading = Convites
desktop-invitation = { $by } convida você para "{ $space }".
desktop-invitation-unknown = Há um convite para você em "{ $space }".
desktop-accept-button = Aceitar

## A space

desktop-feed-heading = Feed
desktop-members-heading = Membros
desktop-feed-empty = Nada foi publicado aqui ainda.
desktop-composer-label = Escrever no espaço
desktop-post-button = Publicar
desktop-comment-label = Sua resposta
desktop-comment-button = Responder
desktop-react-button = Reagir com { $reaction }
desktop-edited = editado
desktop-deleted = Este item foi apagado.
desktop-load-more-button = Publicações anteriores
desktop-invite-heading = Convidar alguém
desktop-card-label = Cartão de contato da pessoa
desktop-role-label = Papel
desktop-invite-button = Convidar
desktop-invite-sent = O convite está a caminho.
desktop-member-devices = { $count ->
    [one] { $count } dispositivo
   *[other] { $count } dispositivos
}

## Your contact card

desktop-card-heading = Seu cartão de contato
desktop-card-help = Entregue este cartão à pessoa que vai convidar você para um espaço: ela o cola no aplicativo dela.

## Settings

desktop-settings-heading = Configurações
desktop-language-label = Idioma
desktop-lock-button = Bloquear agora
desktop-wipe-heading = Apagamento de emergência
desktop-wipe-help = Destrói este perfil neste computador imediatamente: nada nele poderá ser lido de novo.
desktop-wipe-confirm-label = Digite WIPE para confirmar
desktop-wipe-button = Apagar este perfil
desktop-wiped = O perfil foi destruído.

## What happened

desktop-security-heading = Segurança
desktop-refused-heading = Recusado
