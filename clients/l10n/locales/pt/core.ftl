# What the core's typed errors, reasons and events say, shared by every client (the
# CLI, the desktop app, the phone apps through the FFI). Message ids follow the Rust
# enums: `missing-<variant>`, `refusal-<variant>`, and so on. Names of people and
# spaces arrive as variables; Fluent isolates them so that a Latin name in an Arabic
# sentence (or the reverse) keeps its own direction.

## Errors

error-wrong-passphrase = frase-senha incorreta: este perfil não abre com ela
error-no-profile = nenhum perfil em { $dir }
error-profile-exists = já existe um perfil em { $dir }
error-corrupt-profile = o perfil está danificado ({ $detail })
error-store-tampered = um valor armazenado falhou na autenticação: o disco foi adulterado ou danificado
error-store = o armazenamento local falhou: { $detail }
error-io = não foi possível ler ou gravar um arquivo: { $detail }
error-verification = a verificação falhou: { $reason }
error-forbidden = não permitido: { $reason }
error-identity-changed = a chave de identidade de { $name } mudou: compare os números de segurança e depois aceite a nova chave
error-space-stalled = o espaço está paralisado: um gestor do espaço deve recriá-lo
error-not-found = não encontrado: { $what }
error-invalid = entrada inválida: { $reason }
error-mls = a criptografia do grupo recusou isto ({ $detail })
error-decode = dados malformados: { $detail }
error-relay = o relay recusou: { $reason }
error-transport = conexão: { $detail }
error-relay-key-not-pinned = o relay apresentou uma chave em que este perfil não confia. Se o operador substituiu a chave do relay enquanto este dispositivo estava offline, peça-lhe um novo convite; caso contrário, outro servidor responde no endereço do relay
error-recovery-words = palavras de recuperação: { $reason }
error-closed = o cliente está encerrado
error-other = ocorreu um erro: { $detail }

## What is not found

missing-space = espaço
missing-certificate = certificado
missing-relay = relay: entre em um relay com um convite
missing-roster = lista de dispositivos
missing-account = conta: entre em um relay com um convite
missing-join-request = pedido de entrada
missing-own-leaf = o lugar deste dispositivo no espaço
missing-item = item
missing-member = membro
missing-note = nota
missing-file = arquivo ou versão
missing-own-device = dispositivo
missing-pending-device = dispositivo aguardando aprovação
missing-observed-list = lista observada
missing-invitation = convite
missing-grant = concessão de chaves de histórico
missing-contact = contato
missing-identity-change = chave de identidade alterada
missing-other = algo

## Why a space's rules refuse

refusal-reader-writes = leitores não publicam, não comentam, não reagem nem alteram a biblioteca
refusal-not-author-or-content-manager = só o autor ou um gestor de conteúdo pode alterar este item
refusal-not-the-versions-author = só quem enviou uma versão de um arquivo envia a sua pré-visualização
refusal-last-manager-leaving = o último gestor do espaço deve nomear outro antes de sair
refusal-generations-exhausted = o espaço já teve tantas gerações quanto um espaço pode ter
refusal-no-longer-in-space = este dispositivo já não está no espaço
refusal-confidential-space = um espaço confidencial não aceita pedidos de entrada
refusal-requests-closed = o espaço já não aceita pedidos de entrada
refusal-device-approval-required = neste espaço, um gestor do espaço aprova cada novo dispositivo
refusal-only-own-devices = só os próprios dispositivos de uma pessoa são adicionados desta forma
refusal-no-identity-key = só o dispositivo que guarda a chave de identidade pode fazer isto
refusal-fixed-history-mode = uma alteração do modo de histórico, que é fixado quando o espaço é criado
refusal-fixed-continues = uma alteração do espaço que este continua, que é fixado quando o espaço é criado
refusal-context-incomplete = o contexto do grupo não tem as regras, o registro de histórico ou os requisitos do espaço
refusal-unknown-extension = o contexto do grupo contém uma extensão que os espaços não usam
refusal-ledger-mismatch = o registro de histórico da alteração difere do histórico dos membros
refusal-ledger-dropped = a alteração descarta o registro de histórico do espaço
refusal-departing-role-kept = a alteração mantém o papel de alguém que ela retira do espaço
refusal-unknown-change = um tipo de alteração que os espaços não usam
refusal-identity-changed-in-update = a atualização de um membro muda quem ele é
refusal-device-not-on-roster = um dispositivo que não consta da lista de dispositivos do seu titular
refusal-other = as regras do espaço não permitem isto

refusal-manager-invite = só um gestor do espaço pode convidar para este espaço
refusal-manager-add-people = só um gestor do espaço pode adicionar pessoas a este espaço
refusal-manager-admit = só um gestor do espaço pode admitir pessoas neste espaço
refusal-manager-readmit = só um gestor do espaço pode readmitir pessoas
refusal-manager-remove = só um gestor do espaço pode remover pessoas
refusal-manager-rename = só um gestor do espaço pode renomear o espaço
refusal-manager-describe = só um gestor do espaço pode descrever o espaço
refusal-manager-change-rules = só um gestor do espaço pode alterar as regras do espaço
refusal-manager-change-roles = só um gestor do espaço pode alterar papéis
refusal-manager-device-approval = só um gestor do espaço pode decidir como os dispositivos entram
refusal-manager-add-others-device = só um gestor do espaço pode adicionar um dispositivo a outra pessoa
refusal-manager-recreate = só um gestor do espaço pode recriar um espaço
refusal-manager-add-recreated-members = só um gestor do espaço pode adicionar os membros de um espaço recriado
refusal-manager-hand-out-card = só um gestor do espaço pode distribuir o cartão deste espaço
refusal-manager-other = só um gestor do espaço pode fazer isto

## What did not verify

unverified-signature-device-certificate = a assinatura de um certificado de dispositivo não é válida
unverified-signature-content = a assinatura de um item não é válida
unverified-signature-presence = a assinatura de uma mensagem de presença não é válida
unverified-signature-contact-card = a assinatura de um cartão de contato não é válida
unverified-signature-space-card = a assinatura de um cartão de espaço não é válida
unverified-signature-link-request = a assinatura de um pedido de vinculação não é válida
unverified-signature-join-request = a assinatura de um pedido de entrada não é válida
unverified-signature-identity-transition = a assinatura de uma transição de identidade não é válida
unverified-signature-device-ready = a assinatura de um aviso de dispositivo pronto não é válida
unverified-signature-other = uma assinatura não é válida
unverified-invalid-key = uma chave inválida
unverified-wrong-sender = enviado por alguém diferente de quem afirma ser
unverified-not-on-roster = de um dispositivo que não consta da lista de dispositivos do seu titular
unverified-unknown-author = de um autor cujo certificado este dispositivo não tem
unverified-wrong-person = de uma pessoa ou dispositivo diferente do que afirma ser
unverified-wrong-place = destinado a outro lugar
unverified-does-not-open = selado, e não abre aqui
unverified-malformed = malformado
unverified-stale = datado fora do prazo permitido
unverified-replay = já recebido uma vez (uma repetição)
unverified-history = chaves de histórico que não correspondem ao registro de histórico do espaço
unverified-chunk = um pedaço de arquivo que não corresponde ao seu arquivo
unverified-no-link-offer = não há nenhuma oferta de vinculação aberta neste dispositivo
unverified-link-secret-missing = um pedido de vinculação feito sem o segredo da oferta
unverified-not-a-link-offer = não é uma oferta de vinculação
unverified-not-a-link-request = não é um pedido de vinculação
unverified-outdated-card = um cartão de contato mais antigo que a lista de dispositivos mais recente da pessoa: peça-lhe um novo
unverified-note-update = uma alteração de nota malformada, grande demais, ou que insere texto em nome de outro dispositivo
unverified-record-unknown-generation = um item selado com uma chave de histórico que este dispositivo não possui
unverified-record-after-its-generation = um item selado em uma geração que já tinha terminado
unverified-record-not-a-member = um item cujo dispositivo do autor não era membro enquanto sua geração estava em vigor
unverified-other = não é válido

## Input out of bounds, or a call that makes no sense now

invalid-text-display-name = { $may_be_empty ->
    [false] um nome de exibição não pode ser vazio, deve ter no máximo { $max } bytes e não pode conter caracteres de controle
   *[true] um nome de exibição deve ter no máximo { $max } bytes e não pode conter caracteres de controle
}
invalid-text-space-name = { $may_be_empty ->
    [false] um nome de espaço não pode ser vazio, deve ter no máximo { $max } bytes e não pode conter caracteres de controle
   *[true] um nome de espaço deve ter no máximo { $max } bytes e não pode conter caracteres de controle
}
invalid-text-space-description = { $may_be_empty ->
    [false] uma descrição de espaço não pode ser vazia, deve ter no máximo { $max } bytes e não pode conter caracteres de controle
   *[true] uma descrição de espaço deve ter no máximo { $max } bytes e não pode conter caracteres de controle
}
invalid-text-node-name = { $may_be_empty ->
    [false] um nome não pode ser vazio, deve ter no máximo { $max } bytes e não pode conter caracteres de controle
   *[true] um nome deve ter no máximo { $max } bytes e não pode conter caracteres de controle
}
invalid-text-note = { $may_be_empty ->
    [false] uma nota não pode ser vazia, deve ter no máximo { $max } bytes e não pode conter caracteres de controle
   *[true] uma nota deve ter no máximo { $max } bytes e não pode conter caracteres de controle
}
invalid-text-text = { $may_be_empty ->
    [false] um texto não pode ser vazio, deve ter no máximo { $max } bytes e não pode conter caracteres de controle
   *[true] um texto deve ter no máximo { $max } bytes e não pode conter caracteres de controle
}
invalid-text-reaction = { $may_be_empty ->
    [false] uma reação não pode ser vazia, deve ter no máximo { $max } bytes e não pode conter caracteres de controle
   *[true] uma reação deve ter no máximo { $max } bytes e não pode conter caracteres de controle
}
invalid-text-join-note = { $may_be_empty ->
    [false] uma nota para os gestores do espaço não pode ser vazia, deve ter no máximo { $max } bytes e não pode conter caracteres de controle
   *[true] uma nota para os gestores do espaço deve ter no máximo { $max } bytes e não pode conter caracteres de controle
}
invalid-text-other = { $may_be_empty ->
    [false] um texto não pode ser vazio, deve ter no máximo { $max } bytes e não pode conter caracteres de controle
   *[true] um texto deve ter no máximo { $max } bytes e não pode conter caracteres de controle
}
invalid-too-many-file-bytes = um arquivo tem no máximo { $max } bytes
invalid-too-many-library-items = uma biblioteca contém no máximo { $max } itens
invalid-too-many-file-versions = um arquivo tem no máximo { $max } versões
invalid-too-many-explicit-roles = um espaço atribui um papel explícito a no máximo { $max } pessoas
invalid-too-many-observed-lists = no máximo { $max } listas são observadas ao mesmo tempo
invalid-too-many-pending-join-requests = no máximo { $max } pedidos de entrada aguardam resposta
invalid-too-many-devices = uma pessoa tem no máximo { $max } dispositivos
invalid-too-many-contacts = a agenda de contatos comporta no máximo { $max } pessoas
invalid-too-many-history-generations = uma concessão de histórico contém no máximo { $max } gerações
invalid-too-many-sealed-bytes = no máximo { $max } bytes são selados de uma vez
invalid-too-many-note-length = uma nota tem no máximo { $max } caracteres
invalid-too-many-note-versions = uma nota guarda no máximo { $max } versões nomeadas
invalid-too-many-chunk-offset = um pedaço de arquivo começa no máximo no byte { $max }
invalid-too-many-other = no máximo { $max }
invalid-not-text-contact-card = não é um cartão de contato válido: verifique se ele foi copiado por inteiro
invalid-not-text-space-card = não é um cartão de espaço válido: verifique se ele foi copiado por inteiro
invalid-not-text-verification-code = não é um código de verificação válido: verifique se ele foi copiado por inteiro
invalid-not-text-other = inválido: verifique se foi copiado por inteiro
invalid-unknown-role = papel desconhecido: use reader, contributor, content-manager ou space-manager
invalid-passphrase-too-short = uma frase-senha deve ter pelo menos { $min } caracteres
invalid-passphrase-too-weak = a frase-senha é fácil demais de adivinhar: use várias palavras sem relação entre si (seis palavras aleatórias são fortes)
invalid-passphrase-too-long = a frase-senha é longa demais
invalid-kdf-params = os parâmetros da derivação de chave estão fora dos limites
invalid-duress-same-as-passphrase = a frase-senha de coação deve ser diferente da frase-senha do perfil
invalid-no-duress-in-memory = um perfil em memória não tem frase-senha de coação
invalid-unexpected-answer = o relay respondeu com o tipo errado de resposta
invalid-own-signer-mismatch = algo que este dispositivo criou não corresponde às suas próprias chaves
invalid-sealing-failed = a selagem falhou
invalid-sealed-record-malformed = um registro selado malformado
invalid-nothing-to-readmit = esse cartão não mostra nenhum dispositivo novo de uma pessoa para readmitir
invalid-readmit-self = uma pessoa readmite outra pessoa, não a si mesma
invalid-awaiting-history = este dispositivo aguarda o histórico do espaço
invalid-not-stalled = só um espaço paralisado pode ser recriado
invalid-already-recreated = o espaço já foi recriado
invalid-already-member = já está nesse espaço
invalid-not-in-space = o dispositivo já não está no espaço
invalid-item-too-large = um item tem no máximo cerca de { $max_kib } KiB
invalid-not-a-welcome = um item da caixa de entrada não é um convite
invalid-space-from-older-release = um espaço de uma versão mais antiga: peça ao gestor dele que o recrie
invalid-unsupported-operation = uma operação que os espaços não usam
invalid-not-a-key-package = não é um pacote de chaves
invalid-already-moved = este dispositivo já passou para a sua nova identidade aqui
invalid-revoke-self = um dispositivo não revoga a si mesmo: use o apagamento de emergência
invalid-already-linked = esse dispositivo já está vinculado
invalid-already-has-account = este perfil já tem uma conta em um relay
invalid-manifest-mismatch = a descrição de um arquivo cujos pedaços não correspondem ao seu tamanho
invalid-file-changed = o arquivo é maior que o tamanho anunciado
invalid-image-metadata-unsupported = não é possível remover os metadados (como o local da foto) de imagens { $format }: converta-a para JPEG ou PNG, ou envie-a mantendo os metadados
invalid-image-metadata-malformed = esta imagem { $format } está danificada, e seus metadados (como o local da foto) não podem ser removidos com segurança: converta-a para JPEG ou PNG, ou envie-a mantendo os metadados
invalid-image-metadata-too-large = esta imagem { $format } é grande demais para remover seus metadados (como o local da foto): reduza-a, ou envie-a mantendo os metadados
invalid-no-recipient = um aviso sem nenhum dispositivo destinatário
invalid-no-recovery-words = uma chave de identidade não tem palavras de recuperação
invalid-rules-malformed = regras de espaço malformadas
invalid-other = inválido aqui

## Recovery words

recovery-wrong-count = { $expected } palavras esperadas, { $given } informadas
recovery-unknown-word = a palavra { $position } não está na lista
recovery-mismatch = elas não combinam entre si (alguma palavra digitada errado ou fora de ordem?)
recovery-not-a-set = não é um conjunto válido
recovery-other = elas não são válidas

## What the relay said

relay-bad-request = pedido inválido
relay-unsupported-version = versão de protocolo não suportada; o relay usa a versão { $supported }
relay-auth-required = autentique-se primeiro
relay-auth-failed = a autenticação falhou
relay-invitation-invalid = convite inválido, já usado ou expirado
relay-forbidden = acesso ao grupo recusado
relay-not-found = não encontrado
relay-conflict = entra em conflito com o que está armazenado
relay-stale-epoch = o grupo já avançou (época { $current })
relay-quota-exceeded = armazenamento cheio: { $used } de { $quota } bytes usados
relay-limit-exceeded = um limite do relay foi atingido
relay-rate-limited = pedidos demais; tente novamente em { $seconds } s
relay-internal = o relay falhou
relay-other = o relay recusou

## The kind of failure an event carries

fault-unverified = a verificação falhou: { $reason }
fault-forbidden = não permitido: { $reason }
fault-not-found = não encontrado: { $what }
fault-relay = o relay recusou: { $reason }
fault-malformed = dados malformados
fault-mls = a criptografia do grupo recusou isto
fault-invalid = entrada inválida: { $reason }
fault-space-stalled = o espaço está paralisado
fault-identity-changed = uma chave de identidade mudou
fault-store = o armazenamento local falhou
fault-connection = a conexão falhou
fault-other = uma falha interna

## Refused and dropped work

rejection-step-failed = uma etapa falhou: { $reason }
rejection-sign-in-failed = não foi possível iniciar a sessão: { $reason }
rejection-request-not-prepared = não foi possível preparar um pedido: { $reason }
rejection-invitation-refused = um convite foi recusado: { $reason }
rejection-log-entry = a entrada { $position } do log foi recusada: { $reason }
rejection-content-record = o registro de conteúdo { $seq } foi recusado: { $reason }
rejection-no-usable-key-package = o convite falhou: nenhum dos dispositivos da pessoa tem um pacote de chaves utilizável
rejection-delivery-failed = não foi possível entregar um convite a um dispositivo: { $reason }
rejection-join-request-undelivered = não foi possível entregar o pedido de entrada: { $reason }
rejection-upload-dropped = um envio foi descartado: este dispositivo já não pode escrever no espaço
rejection-download-dropped = um download foi descartado: este dispositivo já não está no espaço
rejection-unsent-item-dropped = um item não enviado foi descartado: este dispositivo já não está no espaço
rejection-operation-dropped = uma operação foi descartada: { $reason }
rejection-other = algo foi recusado

## Security warnings

warning-revoked-by-new-identity = a chave de identidade desta pessoa foi substituída e este dispositivo ficou de fora: ele foi revogado
warning-revoked-by-own-device = outro dispositivo desta pessoa revogou este dispositivo
warning-conflicting-rosters = duas listas de dispositivos diferentes de uma mesma pessoa com a mesma versão: a chave de identidade dela pode estar em outras mãos
warning-commits-withheld = o relay diz que este espaço avançou, mas não fornece nenhuma alteração que leve até lá: ele pode estar escondendo deste dispositivo as alterações do espaço
warning-log-access-refused = o relay recusou o acesso deste dispositivo ao log do espaço
warning-log-entries-skipped = o relay omitiu as entradas do log de { $first } a { $last }: mensagens podem ter sido retidas
warning-content-records-skipped = o relay omitiu os registros de conteúdo de { $first } a { $last }: itens podem ter sido retidos
warning-history-grant-refused = { $from } entregou a este dispositivo um histórico que não corresponde ao registro de histórico do espaço ({ $reason }); ele foi recusado
warning-stalled-by = { $by } fez uma alteração que o seu papel não permite ({ $reason }); ela foi recusada, e o espaço fica paralisado até que um gestor do espaço o recrie sem essa pessoa
warning-stalled = uma alteração que nenhum dispositivo consegue aplicar foi aceita pelo relay ({ $reason }); o espaço fica paralisado até que um gestor do espaço o recrie
warning-author-not-sender = um item indicava um autor diferente do seu remetente; ele foi recusado
warning-note-contradicted = { $by } enviou uma segunda versão de um texto escrito numa nota; este dispositivo mantém a primeira, mas quem ler a nota mais tarde poderá ver a segunda
warning-unasked-device = o relay respondeu a um pedido com um dispositivo que não foi solicitado
warning-foreign-key-package = o relay forneceu um pacote de chaves que não pertence a um dispositivo da pessoa convidada: { $reason }
warning-other = algo parece errado

## Deliveries that wait

delay-quota-full = ainda não foi possível entregar um convite (o armazenamento desta conta no relay está cheio); ele será reenviado
delay-inbox-full = ainda não foi possível entregar um convite (a caixa de entrada da pessoa convidada no relay está cheia); ele será reenviado
delay-other = uma entrega está pendente; ela será reenviada

## Roles, policies, history modes

role-reader = leitor
role-contributor = colaborador
role-content-manager = gestor de conteúdo
role-space-manager = gestor do espaço
policy-open = aberto
policy-on-request = mediante pedido
policy-confidential = confidencial
history-keep = histórico mantido
history-none = sem histórico

## Events

event-account-created = Conta criada.
event-invited = { $by } convidou você para "{ $space }".
event-joined = Você entrou em "{ $space }".
event-removed = Você já não está em "{ $space }".
event-recreated = "{ $space }" foi recriado sem o membro que o paralisou; ele continua como { $successor }.
event-uploaded = Um arquivo de { $bytes } bytes foi enviado para "{ $space }".
event-downloaded = Um arquivo de { $bytes } bytes foi baixado de "{ $space }".
event-library-changed = A biblioteca de "{ $space }" mudou.
event-note-changed = Uma nota de "{ $space }" mudou.
event-note-version-named = Uma versão de uma nota de "{ $space }" recebeu um nome.
event-notify-post = { $from } publicou em "{ $space }"
event-notify-reply = { $from } respondeu a você em "{ $space }"
event-notify-reaction = { $from } reagiu ao seu item em "{ $space }"
event-join-admitted = { $name } ({ $identity }) pediu para entrar em "{ $space }", e o pedido foi aceito.
event-join-requested = { $name } ({ $identity }) pede para entrar em "{ $space }".
event-identity-changed = { $was_verified ->
    [true] SEGURANÇA: a chave de identidade de { $name } mudou ({ $previous } -> { $current }); a chave antiga tinha sido verificada. Nada é feito com a nova chave até que você compare os números de segurança e a aceite.
   *[false] SEGURANÇA: a chave de identidade de { $name } mudou ({ $previous } -> { $current }). Nada é feito com a nova chave até que você compare os números de segurança e a aceite.
}
event-device-added = Um novo dispositivo de { $name } ({ $device }) entrou em "{ $space }": a partir de agora, ele lê tudo o que há lá.
event-identity-rotated = SEGURANÇA: { $name } substituiu sua chave de identidade ({ $previous } -> { $current }), com uma transição assinada pela chave antiga. Compare novamente os números de segurança com essa pessoa antes de confiar na nova chave.
event-delivery-waiting = Em "{ $space }": { $reason }.
event-rejected = recusado: { $reason }
event-security-warning-in = SEGURANÇA em "{ $space }": { $reason }
event-security-warning = SEGURANÇA: { $reason }
