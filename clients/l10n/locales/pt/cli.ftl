# What the command-line client `huisclos` says. Command names, options and the words a
# person types (yes, WIPE, policy names on the command line) stay as written here in
# every language: they are part of the command, and scripts type them.

## What it says

cli-profile-created = Perfil criado em { $dir }. Em seguida, entre em um relay: huisclos join INVITATION
cli-joined = Você entrou no relay; conta { $account }.
cli-queued = Salvo; será enviado na próxima sincronização.
cli-offline = Sem conexão ({ $why }); tudo fica na fila para a próxima sincronização.
cli-sync-done = Atualizado: { $spaces ->
        [one] { $spaces } espaço
       *[other] { $spaces } espaços
    }, { $outbox ->
        [one] { $outbox } item aguardando envio.
       *[other] { $outbox } itens aguardando envio.
    }
cli-space-created = Espaço "{ $name }" criado ({ $id }).
cli-invited = Convite para { $name } na fila.
cli-item-queued = Item { $id } salvo.
cli-nothing-here = Nada aqui ainda.
cli-link-offer-shown = Mostre esta oferta ao novo dispositivo (nele: huisclos init --name NAME --link OFFER) e depois aprove o pedido dele aqui com: huisclos devices approve REQUEST
cli-link-request-shown = Aprove este pedido no seu dispositivo já existente (huisclos devices approve REQUEST). Os dois dispositivos mostram o código de confirmação { $code }.
cli-link-confirm = Vincular o dispositivo "{ $name }" com o código de confirmação { $code }? Digite yes para aprovar:
cli-link-approved = Dispositivo "{ $name }" aprovado; ele recebe sua identidade agora.
cli-link-declined = Não aprovado; nada foi enviado.
cli-link-waiting = Aguardando a aprovação…
cli-linked = Este dispositivo agora está vinculado à identidade de { $name }.
cli-watching = Aguardando novos eventos (Ctrl-C para parar)…
cli-verified = Contato { $name } marcado como verificado.
cli-key-accepted = A nova chave de identidade de { $name } foi aceita (não verificada: compare os números de segurança).
cli-safety-number = Número de segurança com { $name } (compare-o com o dessa pessoa, pessoalmente ou por uma chamada confiável):
cli-request-sent = Pedido de entrada em "{ $space }" enviado; você entra assim que ele for aprovado.
cli-duress-set = Frase-senha de coação definida. Se for digitada no lugar da sua, ela destrói este perfil e abre o perfil de fachada criado agora.
cli-delete-keeps-relay-copy = Observação: o item é apagado do feed dos membros, mas não do relay, onde continua selado e legível por todos os membros.
cli-identity-key-replaced = Sua chave de identidade foi substituída; seus contatos são avisados e devem comparar novamente os números de segurança com você. Anote suas novas palavras de recuperação: huisclos recovery-words
cli-device-revoked = Dispositivo "{ $name }" revogado: o relay o recusa, e ele é removido dos seus espaços.
cli-wipe-confirm = Isto destrói o perfil para sempre: nada nele poderá ser lido de novo. Digite WIPE para continuar:
cli-wipe-declined = Nada foi apagado.
cli-wiped = O perfil foi destruído.
cli-recovered = Identidade { $identity } restaurada neste novo dispositivo. Entre no relay com um novo convite (huisclos join INVITATION) e depois entregue seu cartão de contato (huisclos whoami) a um gestor de cada um dos seus espaços: ele readmite você com huisclos space readmit.
cli-recovery-words-confirm = Quem ler estas palavras pode se passar por você. Certifique-se de que nenhuma pessoa e nenhuma câmera veja a tela. Mostrá-las? Digite yes:
cli-recovery-words-shown = Escreva estas 24 palavras em papel, na ordem, e guarde-as longe deste dispositivo. Com um novo convite, elas restauram sua identidade em um novo dispositivo (huisclos init --recover).
cli-readmitted = { $name } terá a entrada restabelecida: os dispositivos antigos dessa pessoa serão removidos e o novo, adicionado.
cli-done = Concluído.

## Hints after an event: the command that answers it

cli-hint-accept-invitation = Aceite com: huisclos space accept { $id }
cli-hint-decide-request = Decida com: huisclos space requests { $id }
cli-hint-accept-key = Depois execute: huisclos accept-key { $name }

## Why a command cannot be done as typed

cli-problem-not-an-invitation = não é um convite: { $error }
cli-problem-note-path = informe o caminho de uma nota
cli-problem-not-a-note = { $path } não é uma nota
cli-problem-editor-failed = o editor não terminou: a nota não foi alterada
cli-problem-top-does-not-move = a raiz da biblioteca não pode ser movida
cli-problem-no-item-at = nenhum item em { $path }
cli-problem-no-such-version = { $count ->
    [0] nenhuma versão desta nota começa com "{ $typed }" (veja note-log)
   *[other] { $count } versões começam com "{ $typed }": digite mais do identificador
}
cli-problem-top-not-trashed = a raiz da biblioteca não está na lixeira
cli-problem-trashed-path = informe o caminho de um item que está na lixeira
cli-problem-no-usable-file-name = { $path } não tem um nome de arquivo utilizável
cli-problem-is-a-note = { $path } é uma nota, não um arquivo
cli-problem-file-path = informe o caminho de um arquivo
cli-problem-devices-match = { $count ->
        [one] { $count } dos seus outros dispositivos corresponde a "{ $typed }": use o id mostrado por huisclos devices list
       *[other] { $count } dos seus outros dispositivos correspondem a "{ $typed }": use o id mostrado por huisclos devices list
    }
cli-problem-not-approved-in-time = não aprovado a tempo; execute o mesmo comando de novo para continuar aguardando
cli-problem-no-recovery-words = nenhuma palavra de recuperação informada: digite-as quando solicitado ou defina { $var } em scripts
cli-problem-link-without-engine = a vinculação terminou, mas o dispositivo não está pronto: execute de novo
cli-problem-no-match = { $what ->
        [space] nenhum espaço corresponde a "{ $typed }"
        [person] nenhuma pessoa corresponde a "{ $typed }"
        [device] nenhum dispositivo corresponde a "{ $typed }"
       *[item] nenhum item corresponde a "{ $typed }"
    }
cli-problem-many-match = { $what ->
        [space] { $count } espaços correspondem a "{ $typed }": digite mais caracteres do id
        [person] { $count } pessoas correspondem a "{ $typed }": digite mais caracteres do id
        [device] { $count } dispositivos correspondem a "{ $typed }": digite mais caracteres do id
       *[item] { $count } itens correspondem a "{ $typed }": digite mais caracteres do id
    }
cli-problem-not-an-item-id = "{ $typed }" não é um id de item (pelo menos 4 dígitos hexadecimais)
cli-problem-path-ends-with-name = um caminho termina com um nome
cli-problem-no-profile-directory = nenhum diretório de perfil: passe --profile DIR ou defina HUISCLOS_PROFILE
cli-problem-not-utf8 = { $var } não é UTF-8 válido
cli-problem-no-passphrase = nenhuma frase-senha: digite-a em um terminal ou defina { $var }
cli-problem-no-duress-passphrase = nenhuma frase-senha de coação: digite-a ou defina { $var }
cli-problem-passphrases-differ = as duas frases-senha são diferentes; nada foi alterado
cli-problem-passphrase-too-weak = esta frase-senha é curta demais ou fácil demais de adivinhar: use pelo menos { $min } caracteres, com várias palavras sem relação entre si. Seis palavras aleatórias são fortes, por exemplo: { $suggestion }
cli-problem-profile-exists = já existe um perfil em { $dir }
cli-problem-no-profile-in = nenhum perfil em { $dir }: crie um com huisclos init --name NAME
cli-problem-waits-to-be-linked = este dispositivo aguarda ser vinculado: depois da aprovação, execute huisclos init --link de novo para concluir
cli-problem-no-relay = este perfil não entrou em nenhum relay: execute huisclos join INVITATION
cli-problem-unknown-policy = política desconhecida "{ $typed }": use open, on-request ou confidential
cli-problem-unknown-language = idioma desconhecido "{ $typed }": use en, fr, de, ar ou pt

## What it asks

cli-prompt-passphrase = Frase-senha:
cli-prompt-new-passphrase = Nova frase-senha:
cli-prompt-same-passphrase = Repita a frase-senha:
cli-prompt-duress-passphrase = Frase-senha de coação:
cli-prompt-same-duress-passphrase = Repita a frase-senha de coação:
cli-prompt-recovery-words = Suas 24 palavras de recuperação, separadas por espaços:

## Words of its listings

cli-word-name = nome:
cli-word-identity = identidade:
cli-word-account = conta:
cli-word-device = dispositivo:
cli-word-card = cartão:
cli-word-key-changed = CHAVE ALTERADA
cli-word-verified = verificado
cli-word-not-verified = não verificado
cli-word-unread = { $count ->
        [one] { $count } não lido
       *[other] { $count } não lidos
    }
cli-word-left = saiu
cli-word-stalled = paralisado
cli-word-muted = silenciado
cli-word-your-role = você: { $role }
cli-word-edited = (editado)
cli-word-replaced-by = (texto substituído por { $name }, gestor de conteúdo)
cli-word-removed-by = (removido por { $name }, gestor de conteúdo)
cli-word-deleted = (apagado)
cli-word-this-device = (este dispositivo)
cli-word-folder = pasta
cli-word-file = arquivo
cli-word-note = nota
cli-word-file-size = { $bytes } bytes, { $versions ->
        [one] { $versions } versão
       *[other] { $versions } versões
    }
cli-word-devices = { $count ->
        [one] { $count } dispositivo
       *[other] { $count } dispositivos
    }
cli-word-security = SEGURANÇA:
cli-word-refused = recusado:
