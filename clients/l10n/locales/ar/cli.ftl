# What the command-line client `huisclos` says. Command names, options and the words a
# person types (yes, WIPE, policy names on the command line) stay as written here in
# every language: they are part of the command, and scripts type them.

## What it says

cli-profile-created = أُنشئ الملف الشخصي في { $dir }. الخطوة التالية هي الانضمام إلى مُرحِّل: huisclos join INVITATION
cli-joined = تم الانضمام إلى المُرحِّل؛ الحساب { $account }.
cli-queued = حُفظ؛ وسيُرسل عند المزامنة التالية.
cli-offline = غير متصل ({ $why })؛ يبقى كل شيء في قائمة الانتظار حتى المزامنة التالية.
cli-sync-done = البيانات محدَّثة: { $spaces ->
        [zero] لا مساحات
        [one] مساحة واحدة
        [two] مساحتان
        [few] { $spaces } مساحات
        [many] { $spaces } مساحةً
       *[other] { $spaces } مساحة
    }، { $outbox ->
        [zero] ولا عناصر بانتظار الإرسال.
        [one] وعنصر واحد بانتظار الإرسال.
        [two] وعنصران بانتظار الإرسال.
        [few] و{ $outbox } عناصر بانتظار الإرسال.
        [many] و{ $outbox } عنصرًا بانتظار الإرسال.
       *[other] و{ $outbox } عنصر بانتظار الإرسال.
    }
cli-space-created = أُنشئت المساحة «{ $name }» ({ $id }).
cli-invited = وُضعت دعوة { $name } في قائمة الانتظار.
cli-item-queued = حُفظ العنصر { $id }.
cli-nothing-here = لا شيء هنا بعد.
cli-link-offer-shown = أظهِر عرض الربط هذا للجهاز الجديد (ونفّذ عليه: huisclos init --name NAME --link OFFER)، ثم وافق على طلبه هنا بالأمر: huisclos devices approve REQUEST
cli-link-request-shown = وافق على هذا الطلب من جهازك الحالي (huisclos devices approve REQUEST). يعرض الجهازان كلاهما رمز التأكيد { $code }.
cli-link-confirm = هل تريد ربط الجهاز «{ $name }» برمز التأكيد { $code }؟ اكتب yes للموافقة:
cli-link-approved = تمت الموافقة على الجهاز «{ $name }»؛ وهو يتلقى هويتك الآن.
cli-link-declined = لم تتم الموافقة؛ ولم يُرسل أي شيء.
cli-link-waiting = بانتظار الموافقة…
cli-linked = أصبح هذا الجهاز مرتبطًا الآن بهوية { $name }.
cli-watching = جارٍ رصد الأحداث الجديدة (Ctrl-C للإيقاف)…
cli-verified = وُضعت على { $name } علامة «تم التحقق».
cli-key-accepted = قُبل مفتاح هوية { $name } الجديد (لم يُتحقَّق منه: قارن أرقام الأمان).
cli-safety-number = رقم الأمان مع { $name } (قارنه بالرقم الظاهر لدى الطرف الآخر، وجهًا لوجه أو عبر مكالمة موثوقة):
cli-request-sent = أُرسل طلب الانضمام إلى «{ $space }»؛ وستنضم حين تتم الموافقة عليه.
cli-duress-set = عُيّنت عبارة مرور الإكراه. إذا أُدخلت بدلًا من عبارة مرورك، فإنها تُتلف هذا الملف الشخصي وتفتح الملف التمويهي الذي أُنشئ الآن.
cli-delete-keeps-relay-copy = ملاحظة: يُحذف العنصر من موجزات الأعضاء، لا من المُرحِّل، حيث يبقى مختومًا ويستطيع كل عضو قراءته.
cli-identity-key-replaced = استُبدل مفتاح هويتك؛ وقد أُبلغت جهات اتصالك، وينبغي لها مقارنة أرقام الأمان معك مجددًا. دوّن كلمات الاستعادة الجديدة: huisclos recovery-words
cli-device-revoked = أُبطل الجهاز «{ $name }»: يرفضه المُرحِّل، وقد أُزيل من مساحاتك.
cli-wipe-confirm = سيؤدي هذا إلى إتلاف الملف الشخصي نهائيًا: لن يمكن قراءة أي شيء منه مرة أخرى. اكتب WIPE للمتابعة:
cli-wipe-declined = لم يُمسح أي شيء.
cli-wiped = أُتلف الملف الشخصي.
cli-recovered = استُعيدت الهوية { $identity } على هذا الجهاز الجديد. انضمّ إلى المُرحِّل بدعوة جديدة (huisclos join INVITATION)، ثم سلّم بطاقة الاتصال الخاصة بك (huisclos whoami) إلى أحد مديري كل مساحة من مساحاتك: سيعيدون قبولك بالأمر huisclos space readmit.
cli-recovery-words-confirm = أي شخص يقرأ هذه الكلمات يستطيع انتحال هويتك. تأكّد من ألا يرى الشاشةَ أيُّ شخص ولا أي كاميرا. هل تريد عرضها؟ اكتب yes:
cli-recovery-words-shown = اكتب هذه الكلمات الأربع والعشرين على ورقة، بالترتيب، واحفظها بعيدًا عن هذا الجهاز. مع دعوة جديدة، تستعيد بها هويتك على جهاز جديد (huisclos init --recover).
cli-readmitted = سيُعاد قبول { $name }: تُزال أجهزته القديمة، ويُضاف جهازه الجديد.
cli-done = تم.

## Hints after an event: the command that answers it

cli-hint-accept-invitation = للقبول: huisclos space accept { $id }
cli-hint-decide-request = للبتّ في الطلب: huisclos space requests { $id }
cli-hint-accept-key = ثم نفّذ: huisclos accept-key { $name }

## Why a command cannot be done as typed

cli-problem-not-an-invitation = ليست دعوة: { $error }
cli-problem-note-path = حدّد مسار ملاحظة
cli-problem-not-a-note = المسار { $path } لا يشير إلى ملاحظة
cli-problem-editor-failed = لم يكتمل المحرّر: لم تتغيّر الملاحظة
cli-problem-top-does-not-move = جذر المكتبة لا يُنقل
cli-problem-no-item-at = لا يوجد عنصر في { $path }
cli-problem-no-such-version = { $count ->
    [0] لا توجد نسخة من هذه الملاحظة تبدأ بـ«{ $typed }» (انظر note-log)
   *[other] { $count } نسخ تبدأ بـ«{ $typed }»: اكتب جزءاً أطول من المعرّف
}
cli-problem-top-not-trashed = جذر المكتبة ليس في سلة المهملات
cli-problem-trashed-path = حدّد مسار عنصر في سلة المهملات
cli-problem-no-usable-file-name = المسار { $path } لا يتضمن اسم ملف صالحًا للاستخدام
cli-problem-is-a-note = المسار { $path } يشير إلى ملاحظة، لا إلى ملف
cli-problem-file-path = حدّد مسار ملف
cli-problem-devices-match = { $count ->
        [zero] لا يطابق أيٌّ من أجهزتك الأخرى «{ $typed }»: استخدم المعرّف الظاهر في huisclos devices list
        [one] جهاز واحد من أجهزتك الأخرى يطابق «{ $typed }»: استخدم المعرّف الظاهر في huisclos devices list
        [two] جهازان من أجهزتك الأخرى يطابقان «{ $typed }»: استخدم المعرّف الظاهر في huisclos devices list
        [few] { $count } أجهزة من أجهزتك الأخرى تطابق «{ $typed }»: استخدم المعرّف الظاهر في huisclos devices list
        [many] { $count } جهازًا من أجهزتك الأخرى تطابق «{ $typed }»: استخدم المعرّف الظاهر في huisclos devices list
       *[other] { $count } جهاز من أجهزتك الأخرى تطابق «{ $typed }»: استخدم المعرّف الظاهر في huisclos devices list
    }
cli-problem-not-approved-in-time = لم تتم الموافقة في الوقت المحدد؛ نفّذ الأمر نفسه مرة أخرى لمواصلة الانتظار
cli-problem-no-recovery-words = لم تُدخَل كلمات الاستعادة: اكتبها عند طلبها، أو عيّن { $var } في السكربتات
cli-problem-link-without-engine = اكتمل الربط، لكن الجهاز ليس جاهزًا: نفّذ الأمر مرة أخرى
cli-problem-no-match = { $what ->
        [space] لا توجد مساحة تطابق «{ $typed }»
        [person] لا يوجد شخص يطابق «{ $typed }»
        [device] لا يوجد جهاز يطابق «{ $typed }»
       *[item] لا يوجد عنصر يطابق «{ $typed }»
    }
cli-problem-many-match = { $what ->
        [space] عدد المساحات التي تطابق «{ $typed }»: { $count }؛ اكتب جزءًا أطول من المعرّف
        [person] عدد الأشخاص الذين يطابقون «{ $typed }»: { $count }؛ اكتب جزءًا أطول من المعرّف
        [device] عدد الأجهزة التي تطابق «{ $typed }»: { $count }؛ اكتب جزءًا أطول من المعرّف
       *[item] عدد العناصر التي تطابق «{ $typed }»: { $count }؛ اكتب جزءًا أطول من المعرّف
    }
cli-problem-not-an-item-id = «{ $typed }» ليس معرّف عنصر (أربعة أرقام ست عشرية على الأقل)
cli-problem-path-ends-with-name = يجب أن ينتهي المسار باسم
cli-problem-no-profile-directory = لا يوجد مجلد للملف الشخصي: مرّر --profile DIR أو عيّن HUISCLOS_PROFILE
cli-problem-not-utf8 = قيمة { $var } ليست نصًا صالحًا بترميز UTF-8
cli-problem-no-passphrase = لا توجد عبارة مرور: اكتبها في الطرفية أو عيّن { $var }
cli-problem-no-duress-passphrase = لا توجد عبارة مرور إكراه: اكتبها أو عيّن { $var }
cli-problem-passphrases-differ = عبارتا المرور مختلفتان؛ لم يُغيَّر أي شيء
cli-problem-passphrase-too-weak = عبارة المرور هذه قصيرة جدًا أو سهلة التخمين: استخدم عبارة لا يقل عدد محارفها عن { $min }، مكوّنة من عدة كلمات لا رابط بينها. ست كلمات عشوائية تُعدّ عبارة قوية، مثل: { $suggestion }
cli-problem-profile-exists = يوجد ملف شخصي بالفعل في { $dir }
cli-problem-no-profile-in = لا يوجد ملف شخصي في { $dir }: أنشئ ملفًا بالأمر huisclos init --name NAME
cli-problem-waits-to-be-linked = هذا الجهاز بانتظار الربط: نفّذ huisclos init --link مرة أخرى لإتمامه بعد الموافقة
cli-problem-no-relay = لم ينضم هذا الملف الشخصي إلى أي مُرحِّل: نفّذ huisclos join INVITATION
cli-problem-unknown-policy = سياسة غير معروفة «{ $typed }»: استخدم open أو on-request أو confidential
cli-problem-unknown-language = لغة غير معروفة «{ $typed }»: استخدم en أو fr أو de أو ar أو pt

## What it asks

cli-prompt-passphrase = عبارة المرور:
cli-prompt-new-passphrase = عبارة المرور الجديدة:
cli-prompt-same-passphrase = أعد إدخال عبارة المرور نفسها:
cli-prompt-duress-passphrase = عبارة مرور الإكراه:
cli-prompt-same-duress-passphrase = أعد إدخال عبارة مرور الإكراه نفسها:
cli-prompt-recovery-words = كلمات الاستعادة الأربع والعشرون، مفصولة بمسافات:

## Words of its listings

cli-word-name = الاسم:
cli-word-identity = الهوية:
cli-word-account = الحساب:
cli-word-device = الجهاز:
cli-word-card = البطاقة:
cli-word-key-changed = تغيّر المفتاح
cli-word-verified = تم التحقق
cli-word-not-verified = لم يتم التحقق
cli-word-unread = غير مقروءة: { $count }
cli-word-left = تمت مغادرتها
cli-word-stalled = متوقفة
cli-word-muted = مكتومة
cli-word-your-role = دورك: { $role }
cli-word-edited = (مُعدَّل)
cli-word-replaced-by = (استبدل { $name } النص، بصفته مدير المحتوى)
cli-word-removed-by = (أزاله { $name }، بصفته مدير المحتوى)
cli-word-deleted = (محذوف)
cli-word-this-device = (هذا الجهاز)
cli-word-folder = مجلد
cli-word-file = ملف
cli-word-note = ملاحظة
cli-word-file-size = { $bytes } بايت، { $versions ->
        [zero] بلا إصدارات
        [one] إصدار واحد
        [two] إصداران
        [few] { $versions } إصدارات
        [many] { $versions } إصدارًا
       *[other] { $versions } إصدار
    }
cli-word-devices = { $count ->
        [zero] لا أجهزة
        [one] جهاز واحد
        [two] جهازان
        [few] { $count } أجهزة
        [many] { $count } جهازًا
       *[other] { $count } جهاز
    }
cli-word-security = تنبيه أمني:
cli-word-refused = مرفوض:
