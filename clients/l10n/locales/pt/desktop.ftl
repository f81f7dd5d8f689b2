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
desktop-connection-via = Conectado via { $transport }
desktop-connection-retrying = nova tentativa em { $seconds } s
desktop-item-waiting = Aguardando envio
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

## As seções de um espaço

desktop-space-sections-label = Seções deste espaço
desktop-tab-feed = Publicações
desktop-tab-library = Biblioteca
desktop-tab-members = Membros

## Alterar o que foi escrito

desktop-edit-button = Editar
desktop-edit-label = O novo texto
desktop-save-button = Salvar
desktop-delete-button = Excluir
desktop-delete-confirm = Excluir isto para todas as pessoas?
desktop-edited-by-moderator = editado pela moderação
desktop-yes-button = Sim
desktop-no-button = Não

## Membros, pedidos de adesão, o cartão do espaço

desktop-you = (você)
desktop-role-of = Papel de { $name }
desktop-role-changed = { $name } tem um novo papel.
desktop-remove-button = Remover
desktop-remove-confirm = Remover { $name } deste espaço? Nada do que for escrito depois poderá ser lido por essa pessoa.
desktop-member-removed = { $name } não é mais membro do espaço.
desktop-requests-heading = Pedidos de adesão
desktop-requests-empty = Ninguém está esperando para aderir.
desktop-approve-button = Aprovar
desktop-decline-button = Recusar
desktop-space-card-heading = O cartão deste espaço
desktop-space-card-help = Quem tiver este cartão pode pedir para aderir; a gestão do espaço decide.
desktop-show-card-button = Mostrar o cartão
desktop-qr-alt = Código QR do cartão abaixo
desktop-leave-heading = Sair deste espaço
desktop-leave-button = Sair
desktop-leave-confirm = Sair de "{ $space }"? Precisará de um novo convite para voltar.

## A biblioteca

desktop-folder-path-label = Pasta
desktop-library-top = Biblioteca
desktop-upload-button = Enviar arquivos
desktop-new-folder-button = Nova pasta
desktop-new-note-button = Nova nota
desktop-drop-hint = ou solte arquivos aqui
desktop-folder-name-label = Nome da pasta
desktop-note-name-label = Nome da nota
desktop-create-button-short = Criar
desktop-folder-empty = Esta pasta está vazia.
desktop-kind-folder = pasta
desktop-kind-file = arquivo
desktop-kind-note = nota
desktop-rename-button = Renomear
desktop-rename-label = Novo nome
desktop-trash-button = Mover para a lixeira
desktop-show-trash-button = Mostrar a lixeira
desktop-hide-trash-button = Ocultar a lixeira
desktop-trash-heading = Lixeira
desktop-trash-empty = A lixeira está vazia.
desktop-restore-button = Restaurar
desktop-download-button = Baixar
desktop-versions-button = Versões
desktop-preview-alt = Pré-visualização de { $name }
desktop-keep-metadata = Manter os metadados das fotos
desktop-keep-metadata-warning = As fotos enviadas agora mantêm onde e quando foram tiradas e com qual câmera: todos os membros podem lê-los. Só para provas cuja origem precisa aparecer.
desktop-versions-count = { $count ->
    [one] { $count } versão
   *[other] { $count } versões
}
desktop-version = Versão { $number }
desktop-uploading = Enviando { $name }
desktop-downloading = Baixando { $name }
desktop-upload-done = Enviado.
desktop-download-done = Salvo na pasta de downloads como { $name }.
desktop-file-too-large = { $name } é grande demais para enviar daqui (no máximo { $max }).

## Uma nota

desktop-back-button = Voltar
desktop-preview-button = Pré-visualizar
desktop-note-text-label = Texto da nota, em Markdown
desktop-note-saved = Salva e selada.
desktop-note-also-here = Também nesta nota: { $names }

## Dispositivos e contatos

desktop-people-button = Dispositivos e contatos
desktop-people-heading = Dispositivos e contatos
desktop-devices-heading = Seus dispositivos
desktop-this-device = (este computador)
desktop-device-since = associado em { $date }
desktop-revoke-button = Revogar
desktop-revoke-confirm = Revogar { $name }? Nada do que for escrito depois poderá ser lido nele.
desktop-link-button = Associar um novo dispositivo
desktop-link-heading = Oferta para um novo dispositivo
desktop-link-help = No novo dispositivo, escolha associá-lo a uma pessoa existente e dê-lhe esta oferta. Ele mostra então um pedido: cole-o abaixo.
desktop-link-request-label = O pedido do novo dispositivo
desktop-link-check-button = Verificar o pedido
desktop-link-code-help = O novo dispositivo mostra um código. Aprove apenas se for este:
desktop-link-approve-button = Aprovar este dispositivo
desktop-link-approved = { $name } está associado.
desktop-contacts-heading = Contatos
desktop-contacts-empty = Ainda sem contatos: as pessoas com quem você compartilha um espaço aparecem aqui.
desktop-verified = verificado
desktop-not-verified = não verificado
desktop-key-changed = A chave de { $name } mudou. Compare novamente os números de segurança antes de confiar nela.
desktop-safety-number-button = Número de segurança
desktop-safety-number-help = Compare este número com { $name }, pessoalmente ou em uma chamada de confiança. Se for igual, marque o contato como verificado.
desktop-mark-verified-button = Marcar como verificado
desktop-accept-key-button = Aceitar a nova chave
desktop-accept-key-confirm = Aceitar a nova chave de { $name }? Faça-o só depois de comparar os números de segurança.

## Bloqueio

desktop-lock-after-label = Bloquear após este tempo sem uso
desktop-lock-never = Nunca
desktop-lock-after-minutes = { $count ->
    [one] { $count } minuto
   *[other] { $count } minutos
}

## Palavras de recuperação e frase de coação

desktop-words-heading = Palavras de recuperação
desktop-words-intro = Estas 24 palavras são a sua identidade. Se este computador for perdido, elas trazem você de volta em um novo. Escreva-as no papel, em ordem, e guarde o papel longe deste computador.
desktop-words-warning = Quem ler estas palavras pode se passar por você. Nunca as fotografe, nunca as digite em outro lugar.
desktop-words-written-button = Já as anotei
desktop-words-check-heading = Confira duas delas
desktop-word-at-label = Palavra número { $position }
desktop-words-check-button = Conferir
desktop-words-show-again-button = Mostrar as palavras de novo
desktop-words-wrong = Essa não é a palavra nessa posição. Olhe seu papel de novo.
desktop-words-settings-help = Digite sua frase-senha para ver de novo suas palavras de recuperação.
desktop-words-show-button = Mostrar as palavras de recuperação
desktop-words-hide-button = Ocultar as palavras
desktop-duress-heading = Frase de coação
desktop-duress-help = Se alguém forçar você a desbloquear este computador, digite esta frase em vez da sua: seu perfil é destruído sem deixar rastro e um perfil inofensivo abre no lugar dele.
desktop-duress-current-label = Sua frase-senha
desktop-duress-label = Frase de coação
desktop-decoy-name-label = Nome no perfil inofensivo (o seu, se vazio)
desktop-decoy-invitation-label = Um convite ao relay para o perfil inofensivo (opcional)
desktop-duress-set = A frase de coação foi definida.
desktop-duress-button = Definir a frase de coação

## Notificações

desktop-notifications-label = Notificações
desktop-notifications-off = Nenhuma
desktop-notifications-without-content = Sem conteúdo (só que há novidade)
desktop-notifications-with-content = Com o espaço, o nome e o texto
desktop-notifications-help = Uma notificação pode ser lida na tela e fica guardada pelo sistema, mesmo com o aplicativo bloqueado.
desktop-notify-without-content = Novidade em um dos seus espaços.
desktop-notify-post = { $name }: { $text }
desktop-notify-reply = { $name } respondeu a você: { $text }
desktop-notify-reaction = { $name } reagiu ao que você escreveu.

## Imagens QR e pedidos para entrar

desktop-qr-open-button = Abrir uma imagem QR
desktop-qr-not-an-image = Este arquivo não é uma imagem que o aplicativo consegue ler (PNG, JPEG ou GIF, no máximo 20 MB).
desktop-qr-none = Não foi possível ler nenhum código QR nesta imagem.
desktop-ask-heading = Pedir para entrar em um espaço
desktop-space-card-label = O cartão do espaço
desktop-ask-note-label = Uma mensagem para quem gerencia o espaço (opcional)
desktop-ask-button = Pedir para entrar
desktop-asked = Seu pedido foi enviado. O espaço aparece aqui quando você for aceito.

## Vincular este computador a uma pessoa existente

desktop-link-this-question = Já usa o Huis Clos em outro dispositivo?
desktop-link-this-button = Vincular este computador a ele
desktop-link-this-heading = Vincular este computador
desktop-link-this-intro = No seu outro dispositivo, abra Dispositivos e escolha vincular um novo dispositivo. Cole aqui a oferta que ele mostra, ou abra uma imagem do código QR dela.
desktop-link-offer-label = A oferta do seu outro dispositivo
desktop-link-start-button = Pedir para ser vinculado
desktop-link-request-help = No seu outro dispositivo, cole este pedido (ou escaneie o código QR dele) onde ele pede o pedido do novo dispositivo.
desktop-link-request-qr-alt = O pedido deste computador, como código QR
desktop-link-request-shown-label = O pedido deste computador
desktop-link-code-compare = Seu outro dispositivo mostra então um código. Aprove lá somente se for este:
desktop-link-waiting = Aguardando a aprovação…
desktop-link-cancel-button = Desistir de vincular
desktop-link-cancel-confirm = Desistir de vincular este computador? O que ele preparou é destruído, e você pode começar de novo.

## Abrir com o chaveiro do sistema

desktop-protection-label = Como este perfil é aberto
desktop-protection-passphrase = Com uma frase-senha que eu digito toda vez
desktop-protection-keychain = Com o chaveiro deste computador, sem frase-senha
desktop-protection-keychain-warning = Quem conseguir abrir sua sessão neste computador poderá então abrir o Huis Clos, e nenhuma frase de coação é possível. Escolha uma frase-senha se o computador puder ser apreendido.
desktop-unlock-keychain-help = Este perfil é aberto com o chaveiro deste computador.
desktop-duress-needs-passphrase = Uma frase de coação precisa de um perfil aberto com frase-senha; este é aberto com o chaveiro.

## Comparar por códigos QR

desktop-verify-qr-help = Ou compare por códigos QR: { $name } escaneia o seu, e você abre uma imagem do código da outra pessoa.
desktop-verify-qr-alt = Seu código para { $name } escanear
desktop-verify-scan-button = Abrir uma imagem do código de { $name }
desktop-verify-match = Os códigos coincidem: { $name } está verificado(a).
desktop-verify-mismatch = Os códigos não coincidem. Não confie neste contato até saber por quê: alguém pode estar no meio, ou a chave de { $name } mudou.
