# What the core's typed errors, reasons and events say, shared by every client (the
# CLI, the desktop app, the phone apps through the FFI). Message ids follow the Rust
# enums: `missing-<variant>`, `refusal-<variant>`, and so on. Names of people and
# spaces arrive as variables; Fluent isolates them so that a Latin name in an Arabic
# sentence (or the reverse) keeps its own direction.

## Errors

error-wrong-passphrase = عبارة المرور خاطئة: هذا الملف الشخصي لا يُفتح بها
error-no-profile = لا يوجد ملف شخصي في { $dir }
error-profile-exists = يوجد ملف شخصي بالفعل في { $dir }
error-corrupt-profile = الملف الشخصي تالف ({ $detail })
error-store-tampered = فشلت المصادقة على قيمة مخزَّنة: تعرّض القرص للعبث أو للتلف
error-store = تعطّل المخزن المحلي: { $detail }
error-io = تعذّرت قراءة ملف أو الكتابة فيه: { $detail }
error-verification = فشل التحقق: { $reason }
error-forbidden = غير مسموح: { $reason }
error-identity-changed = تغيّر مفتاح هوية { $name }: قارن أرقام الأمان، ثم اقبل المفتاح الجديد
error-space-stalled = المساحة متوقفة: على مدير المساحة أن يعيد إنشاءها
error-not-found = غير موجود: { $what }
error-invalid = مُدخَل غير صالح: { $reason }
error-mls = رفضه تشفير المجموعة ({ $detail })
error-decode = بيانات مشوَّهة: { $detail }
error-relay = رفض المُرحِّل: { $reason }
error-transport = الاتصال: { $detail }
error-relay-key-not-pinned = قدّم المُرحِّل مفتاحًا لا يثق به هذا الملف الشخصي. إذا استبدل مشغّله مفتاح المُرحِّل بينما كان هذا الجهاز غير متصل، فاطلب منه دعوة جديدة؛ وإلا فإن خادمًا آخر يجيب على عنوان المُرحِّل
error-recovery-words = كلمات الاستعادة: { $reason }
error-closed = تم إيقاف تشغيل البرنامج
error-other = حدث خطأ ما: { $detail }

## What is not found

missing-space = مساحة
missing-certificate = شهادة
missing-relay = مُرحِّل: انضمّ إلى مُرحِّل عبر دعوة
missing-roster = قائمة الأجهزة
missing-account = حساب: انضمّ إلى مُرحِّل عبر دعوة
missing-join-request = طلب انضمام
missing-own-leaf = موضع هذا الجهاز في المساحة
missing-item = عنصر
missing-member = عضو
missing-note = ملاحظة
missing-file = ملف أو إصدار
missing-own-device = جهاز
missing-pending-device = جهاز بانتظار الموافقة
missing-observed-list = قائمة مُراقَبة
missing-invitation = دعوة
missing-grant = منحة مفاتيح السجلّ
missing-contact = جهة اتصال
missing-identity-change = مفتاح الهوية المتغيّر
missing-other = شيء ما

## Why a space's rules refuse

refusal-reader-writes = القرّاء لا ينشرون ولا يعلّقون ولا يتفاعلون ولا يغيّرون المكتبة
refusal-not-author-or-content-manager = لا يحق تعديل هذا العنصر إلا لكاتبه أو لمدير المحتوى
refusal-not-the-versions-author = لا يرسل معاينة نسخة من ملف إلا من رفع تلك النسخة
refusal-last-manager-leaving = على آخر مدير للمساحة أن يعيّن مديرًا آخر قبل المغادرة
refusal-generations-exhausted = بلغت المساحة الحد الأقصى لعدد الأجيال المسموح به لأي مساحة
refusal-no-longer-in-space = لم يعد هذا الجهاز في المساحة
refusal-confidential-space = المساحة السرّية لا تقبل طلبات الانضمام
refusal-requests-closed = لم تعد المساحة تقبل طلبات الانضمام
refusal-device-approval-required = في هذه المساحة، يوافق مدير المساحة على كل جهاز جديد
refusal-only-own-devices = لا تُضاف بهذه الطريقة إلا أجهزة الشخص نفسه
refusal-no-identity-key = لا يقوم بهذا إلا الجهاز الذي يحمل مفتاح الهوية
refusal-fixed-history-mode = تغيير لوضع السجلّ، وهو ثابت يُحدَّد عند إنشاء المساحة
refusal-fixed-continues = تغيير للمساحة التي تُعدّ هذه المساحة امتدادًا لها، وهي ثابتة تُحدَّد عند إنشاء المساحة
refusal-context-incomplete = سياق المجموعة يفتقر إلى قواعد المساحة أو دفتر سجلّها أو متطلباتها
refusal-unknown-extension = سياق المجموعة يتضمن امتدادًا لا تستخدمه المساحات
refusal-ledger-mismatch = دفتر السجلّ في التغيير يختلف عن سجلّ الأعضاء
refusal-ledger-dropped = التغيير يُسقط دفتر سجلّ المساحة
refusal-departing-role-kept = التغيير يُبقي على دور شخص يُخرجه من المساحة
refusal-unknown-change = نوع من التغييرات لا تستخدمه المساحات
refusal-identity-changed-in-update = تحديث أحد الأعضاء يغيّر هويته
refusal-device-not-on-roster = جهاز لا تذكره قائمة أجهزة صاحبه
refusal-other = قواعد المساحة لا تسمح بذلك

refusal-manager-invite = لا يحق الدعوة إلى هذه المساحة إلا لمدير المساحة
refusal-manager-add-people = لا يحق إضافة أشخاص إلى هذه المساحة إلا لمدير المساحة
refusal-manager-admit = لا يحق قبول أشخاص في هذه المساحة إلا لمدير المساحة
refusal-manager-readmit = لا يحق إعادة قبول الأشخاص إلا لمدير المساحة
refusal-manager-remove = لا يحق إزالة الأشخاص إلا لمدير المساحة
refusal-manager-rename = لا يحق إعادة تسمية المساحة إلا لمدير المساحة
refusal-manager-describe = لا يحق وضع وصف للمساحة إلا لمدير المساحة
refusal-manager-change-rules = لا يحق تغيير قواعد المساحة إلا لمدير المساحة
refusal-manager-change-roles = لا يحق تغيير الأدوار إلا لمدير المساحة
refusal-manager-device-approval = لا يحق تحديد طريقة انضمام الأجهزة إلا لمدير المساحة
refusal-manager-add-others-device = لا يحق إضافة جهاز لشخص آخر إلا لمدير المساحة
refusal-manager-recreate = لا يحق إعادة إنشاء مساحة إلا لمدير المساحة
refusal-manager-add-recreated-members = لا يحق إضافة أعضاء مساحة أُعيد إنشاؤها إلا لمدير المساحة
refusal-manager-hand-out-card = لا يحق توزيع بطاقة هذه المساحة إلا لمدير المساحة
refusal-manager-other = لا يحق القيام بهذا إلا لمدير المساحة

## What did not verify

unverified-signature-device-certificate = توقيع شهادة جهاز لا يجتاز التحقق
unverified-signature-content = توقيع عنصر لا يجتاز التحقق
unverified-signature-presence = توقيع رسالة حضور لا يجتاز التحقق
unverified-signature-contact-card = توقيع بطاقة اتصال لا يجتاز التحقق
unverified-signature-space-card = توقيع بطاقة مساحة لا يجتاز التحقق
unverified-signature-link-request = توقيع طلب ربط لا يجتاز التحقق
unverified-signature-join-request = توقيع طلب انضمام لا يجتاز التحقق
unverified-signature-identity-transition = توقيع انتقال هوية لا يجتاز التحقق
unverified-signature-device-ready = توقيع إشعار جاهزية جهاز لا يجتاز التحقق
unverified-signature-other = توقيعٌ لا يجتاز التحقق
unverified-invalid-key = مفتاح غير صالح
unverified-wrong-sender = أرسله طرف غير الذي يدّعيه
unverified-not-on-roster = صادر عن جهاز لا تذكره قائمة أجهزة صاحبه
unverified-unknown-author = من كاتب لا يحمل هذا الجهاز شهادته
unverified-wrong-person = يخص شخصًا أو جهازًا غير الذي يدّعيه
unverified-wrong-place = موجَّه إلى مكان آخر
unverified-does-not-open = مختوم، ولا يمكن فتحه هنا
unverified-malformed = مشوَّه البنية
unverified-stale = مؤرَّخ خارج المدة المسموح بها
unverified-replay = سبق استلامه مرة (إعادة إرسال مكرَّرة)
unverified-history = مفاتيح سجلّ لا تطابق دفتر سجلّ المساحة
unverified-chunk = جزء من ملف لا يتوافق مع ملفه
unverified-no-link-offer = لا يوجد عرض ربط مفتوح على هذا الجهاز
unverified-link-secret-missing = طلب ربط قُدِّم دون سرّ العرض
unverified-not-a-link-offer = ليس عرض ربط
unverified-not-a-link-request = ليس طلب ربط
unverified-outdated-card = بطاقة اتصال أقدم من أحدث قائمة لأجهزة صاحبها: اطلب من صاحبها بطاقة جديدة
unverified-note-update = تعديل على ملاحظة مشوّه أو كبير جدًا أو يُدرج نصًا باسم جهاز آخر
unverified-record-unknown-generation = عنصر مختوم بمفتاح سجلّ لا يملكه هذا الجهاز
unverified-record-after-its-generation = عنصر مختوم في جيل كان قد انتهى
unverified-record-not-a-member = عنصر لم يكن جهاز كاتبه عضوًا في أثناء سريان جيله
unverified-other = لا يجتاز التحقق

## Input out of bounds, or a call that makes no sense now

invalid-text-display-name = { $may_be_empty ->
    [false] يجب ألا يكون اسم العرض فارغًا، وألا يتجاوز { $max } بايت، وألا يحتوي على محارف تحكّم
   *[true] يجب ألا يتجاوز اسم العرض { $max } بايت، وألا يحتوي على محارف تحكّم
}
invalid-text-space-name = { $may_be_empty ->
    [false] يجب ألا يكون اسم المساحة فارغًا، وألا يتجاوز { $max } بايت، وألا يحتوي على محارف تحكّم
   *[true] يجب ألا يتجاوز اسم المساحة { $max } بايت، وألا يحتوي على محارف تحكّم
}
invalid-text-space-description = { $may_be_empty ->
    [false] يجب ألا يكون وصف المساحة فارغًا، وألا يتجاوز { $max } بايت، وألا يحتوي على محارف تحكّم
   *[true] يجب ألا يتجاوز وصف المساحة { $max } بايت، وألا يحتوي على محارف تحكّم
}
invalid-text-node-name = { $may_be_empty ->
    [false] يجب ألا يكون الاسم فارغًا، وألا يتجاوز { $max } بايت، وألا يحتوي على محارف تحكّم
   *[true] يجب ألا يتجاوز الاسم { $max } بايت، وألا يحتوي على محارف تحكّم
}
invalid-text-note = { $may_be_empty ->
    [false] يجب ألا تكون الملاحظة فارغة، وألا تتجاوز { $max } بايت، وألا تحتوي على محارف تحكّم
   *[true] يجب ألا تتجاوز الملاحظة { $max } بايت، وألا تحتوي على محارف تحكّم
}
invalid-text-text = { $may_be_empty ->
    [false] يجب ألا يكون النص فارغًا، وألا يتجاوز { $max } بايت، وألا يحتوي على محارف تحكّم
   *[true] يجب ألا يتجاوز النص { $max } بايت، وألا يحتوي على محارف تحكّم
}
invalid-text-reaction = { $may_be_empty ->
    [false] يجب ألا يكون التفاعل فارغًا، وألا يتجاوز { $max } بايت، وألا يحتوي على محارف تحكّم
   *[true] يجب ألا يتجاوز التفاعل { $max } بايت، وألا يحتوي على محارف تحكّم
}
invalid-text-join-note = { $may_be_empty ->
    [false] يجب ألا تكون الملاحظة الموجَّهة إلى مديري المساحة فارغة، وألا تتجاوز { $max } بايت، وألا تحتوي على محارف تحكّم
   *[true] يجب ألا تتجاوز الملاحظة الموجَّهة إلى مديري المساحة { $max } بايت، وألا تحتوي على محارف تحكّم
}
invalid-text-other = { $may_be_empty ->
    [false] يجب ألا يكون النص فارغًا، وألا يتجاوز { $max } بايت، وألا يحتوي على محارف تحكّم
   *[true] يجب ألا يتجاوز النص { $max } بايت، وألا يحتوي على محارف تحكّم
}
invalid-too-many-file-bytes = الحد الأقصى لحجم الملف هو { $max } بايت
invalid-too-many-library-items = الحد الأقصى لعدد العناصر في المكتبة هو { $max }
invalid-too-many-file-versions = الحد الأقصى لعدد إصدارات الملف هو { $max }
invalid-too-many-explicit-roles = الحد الأقصى لعدد الأشخاص الذين تمنحهم المساحة دورًا صريحًا هو { $max }
invalid-too-many-observed-lists = الحد الأقصى لعدد القوائم المُراقَبة في آنٍ واحد هو { $max }
invalid-too-many-pending-join-requests = الحد الأقصى لعدد طلبات الانضمام التي تنتظر ردًّا هو { $max }
invalid-too-many-devices = الحد الأقصى لعدد أجهزة الشخص الواحد هو { $max }
invalid-too-many-contacts = الحد الأقصى لعدد الأشخاص في دفتر جهات الاتصال هو { $max }
invalid-too-many-history-generations = الحد الأقصى لعدد الأجيال في منحة السجلّ هو { $max }
invalid-too-many-sealed-bytes = الحد الأقصى لما يُختم في المرة الواحدة هو { $max } بايت
invalid-too-many-note-length = الحد الأقصى للملاحظة هو { $max } حرفًا
invalid-too-many-note-versions = تحتفظ الملاحظة بـ{ $max } نسخة مسمّاة على الأكثر
invalid-too-many-chunk-offset = الحد الأقصى لموضع بداية جزء من الملف هو البايت رقم { $max }
invalid-too-many-other = الحد الأقصى هو { $max }
invalid-not-text-contact-card = ليست بطاقة اتصال صالحة: تأكّد من نسخها كاملة
invalid-not-text-space-card = ليست بطاقة مساحة صالحة: تأكّد من نسخها كاملة
invalid-not-text-verification-code = ليس رمز تحقق صالحًا: تأكّد من نسخه كاملًا
invalid-not-text-other = غير صالح: تأكّد من نسخه كاملًا
invalid-unknown-role = دور غير معروف: استخدم reader (قارئ) أو contributor (مساهم) أو content-manager (مدير المحتوى) أو space-manager (مدير المساحة)
invalid-passphrase-too-short = يجب ألا يقل عدد محارف عبارة المرور عن { $min }
invalid-passphrase-too-weak = عبارة المرور سهلة التخمين: استخدم عدة كلمات لا رابط بينها (ست كلمات عشوائية تُعدّ عبارة قوية)
invalid-passphrase-too-long = عبارة المرور طويلة جدًا
invalid-kdf-params = معاملات اشتقاق المفتاح خارج الحدود المسموح بها
invalid-duress-same-as-passphrase = يجب أن تختلف عبارة مرور الإكراه عن عبارة مرور الملف الشخصي
invalid-no-duress-in-memory = الملف الشخصي المحفوظ في الذاكرة ليست له عبارة مرور إكراه
invalid-unexpected-answer = أجاب المُرحِّل بنوع خاطئ من الردود
invalid-own-signer-mismatch = شيء أنشأه هذا الجهاز لا يطابق مفاتيحه الخاصة
invalid-sealing-failed = فشل الختم
invalid-sealed-record-malformed = قيد يُفترض أنه مختوم وليس كذلك
invalid-nothing-to-readmit = تلك البطاقة لا تُظهر جهازًا جديدًا لشخص واحد لإعادة قبوله
invalid-readmit-self = يعيد الشخص قبول غيره، لا قبول نفسه
invalid-awaiting-history = هذا الجهاز ينتظر سجلّ المساحة
invalid-not-stalled = لا يُعاد إنشاء إلا المساحة المتوقفة
invalid-already-recreated = سبق أن أُعيد إنشاء المساحة
invalid-already-member = موجود بالفعل في تلك المساحة
invalid-not-in-space = لم يعد الجهاز في المساحة
invalid-item-too-large = الحد الأقصى لحجم العنصر هو نحو { $max_kib } KiB
invalid-not-a-welcome = عنصر في صندوق الوارد ليس دعوة
invalid-space-from-older-release = مساحة من إصدار أقدم: اطلب من مديرها إعادة إنشائها
invalid-unsupported-operation = عملية لا تستخدمها المساحات
invalid-not-a-key-package = ليست حزمة مفاتيح
invalid-already-moved = سبق أن انتقل هذا الجهاز إلى هويته الجديدة هنا
invalid-revoke-self = لا يُبطل الجهاز نفسه: استخدم المسح الطارئ
invalid-already-linked = ذلك الجهاز مرتبط بالفعل
invalid-already-has-account = لهذا الملف الشخصي حساب بالفعل لدى مُرحِّل
invalid-manifest-mismatch = وصف ملف لا تتطابق أجزاؤه مع طوله
invalid-file-changed = الملف أطول من الطول المُعلَن له
invalid-image-metadata-unsupported = لا يمكن إزالة البيانات الوصفية (مثل مكان التقاط الصورة) من صور { $format }: حوّلها إلى JPEG أو PNG، أو ارفعها مع الإبقاء على بياناتها الوصفية
invalid-image-metadata-malformed = صورة { $format } هذه تالفة، فلا يمكن إزالة بياناتها الوصفية (مثل مكان التقاط الصورة) بأمان: حوّلها إلى JPEG أو PNG، أو ارفعها مع الإبقاء على بياناتها الوصفية
invalid-image-metadata-too-large = صورة { $format } هذه أكبر من أن تُزال بياناتها الوصفية (مثل مكان التقاط الصورة): صغّرها، أو ارفعها مع الإبقاء على بياناتها الوصفية
invalid-no-recipient = إشعار غير موجَّه إلى أي جهاز
invalid-no-recovery-words = مفتاح الهوية ليست له كلمات استعادة
invalid-rules-malformed = قواعد مساحة غير سليمة الصياغة
invalid-other = غير صالح هنا

## Recovery words

recovery-wrong-count = عدد الكلمات المتوقَّع: { $expected }، والعدد المُدخَل: { $given }
recovery-unknown-word = الكلمة رقم { $position } ليست في القائمة
recovery-mismatch = الكلمات لا تتوافق معًا (هل أُخطئ في كتابة كلمة أو اختلّ ترتيبها؟)
recovery-not-a-set = ليست مجموعة صالحة
recovery-other = الكلمات غير صالحة

## What the relay said

relay-bad-request = طلب غير صالح
relay-unsupported-version = إصدار البروتوكول غير مدعوم؛ يعمل المُرحِّل بالإصدار { $supported }
relay-auth-required = يجب إجراء المصادقة أولًا
relay-auth-failed = فشلت المصادقة
relay-invitation-invalid = الدعوة غير صالحة أو مستخدَمة أو منتهية الصلاحية
relay-forbidden = رُفض الوصول إلى المجموعة
relay-not-found = غير موجود
relay-conflict = يتعارض مع ما هو مخزَّن
relay-stale-epoch = تقدّمت المجموعة إلى حقبة لاحقة (الحقبة { $current })
relay-quota-exceeded = سعة التخزين ممتلئة: استُخدم { $used } من أصل { $quota } بايت
relay-limit-exceeded = بُلغ أحد حدود المُرحِّل
relay-rate-limited = طلبات كثيرة جدًا؛ أعد المحاولة بعد { $seconds } ثانية
relay-internal = تعطّل المُرحِّل
relay-other = رفض المُرحِّل

## The kind of failure an event carries

fault-unverified = فشل التحقق: { $reason }
fault-forbidden = غير مسموح: { $reason }
fault-not-found = غير موجود: { $what }
fault-relay = رفض المُرحِّل: { $reason }
fault-malformed = بيانات مشوَّهة
fault-mls = رفضه تشفير المجموعة
fault-invalid = مُدخَل غير صالح: { $reason }
fault-space-stalled = المساحة متوقفة
fault-identity-changed = تغيّر مفتاح هوية
fault-store = تعطّل المخزن المحلي
fault-connection = فشل الاتصال
fault-other = خلل داخلي

## Refused and dropped work

rejection-step-failed = فشلت خطوة: { $reason }
rejection-sign-in-failed = تعذّر تسجيل الدخول: { $reason }
rejection-request-not-prepared = تعذّر إعداد طلب: { $reason }
rejection-invitation-refused = رُفضت دعوة: { $reason }
rejection-log-entry = رُفض المُدخَل رقم { $position } في سجلّ العمليات: { $reason }
rejection-content-record = رُفض قيد المحتوى رقم { $seq }: { $reason }
rejection-no-usable-key-package = فشلت الدعوة: لا يملك أيٌّ من أجهزة الشخص حزمة مفاتيح صالحة للاستخدام
rejection-delivery-failed = تعذّر تسليم دعوة إلى أحد الأجهزة: { $reason }
rejection-join-request-undelivered = تعذّر تسليم طلب الانضمام: { $reason }
rejection-upload-dropped = أُلغي رفع ملف: لم يعد بإمكان هذا الجهاز الكتابة في المساحة
rejection-download-dropped = أُلغي تنزيل ملف: لم يعد هذا الجهاز في المساحة
rejection-unsent-item-dropped = أُسقط عنصر لم يُرسَل: لم يعد هذا الجهاز في المساحة
rejection-operation-dropped = أُلغيت عملية: { $reason }
rejection-other = رُفض أمرٌ ما

## Security warnings

warning-revoked-by-new-identity = استُبدل مفتاح هوية هذا الشخص، واستُبعد هذا الجهاز: لقد أُبطل
warning-revoked-by-own-device = أبطل جهازٌ آخر لهذا الشخص هذا الجهاز
warning-conflicting-rosters = قائمتا أجهزة مختلفتان لشخص واحد تحت الإصدار نفسه: قد يكون مفتاح هويته في أيدٍ أخرى
warning-commits-withheld = يفيد المُرحِّل بأن هذه المساحة تقدّمت، لكنه لا يقدّم أي تغيير يوصل إلى ذلك: قد يكون يحجب تغييرات المساحة عن هذا الجهاز
warning-log-access-refused = رفض المُرحِّل وصول هذا الجهاز إلى سجلّ عمليات المساحة
warning-log-entries-skipped = تخطّى المُرحِّل مُدخَلات سجلّ العمليات من { $first } إلى { $last }: ربما حُجبت رسائل
warning-content-records-skipped = تخطّى المُرحِّل قيود المحتوى من { $first } إلى { $last }: ربما حُجبت عناصر
warning-history-grant-refused = سلّم { $from } هذا الجهاز سجلًّا لا يطابق دفتر سجلّ المساحة ({ $reason })؛ وقد رُفض
warning-stalled-by = أجرى { $by } تغييرًا لا يسمح به دوره ({ $reason })؛ فرُفض التغيير، وتبقى المساحة متوقفة إلى أن يعيد مدير المساحة إنشاءها من دونه
warning-stalled = قبِل المُرحِّل تغييرًا لا يستطيع أي جهاز تطبيقه ({ $reason })؛ وتبقى المساحة متوقفة إلى أن يعيد مدير المساحة إنشاءها
warning-author-not-sender = ادّعى عنصرٌ كاتبًا غير مُرسِله؛ وقد رُفض
warning-note-contradicted = أرسل { $by } نسخةً ثانية من نصٍّ كتبه في ملاحظة؛ يحتفظ هذا الجهاز بالأولى، لكن من يقرأ الملاحظة لاحقًا قد يرى الثانية
warning-unasked-device = ردّ المُرحِّل على طلبٍ بجهاز لم يُطلب
warning-foreign-key-package = قدّم المُرحِّل حزمة مفاتيح لا تعود إلى جهاز الشخص المدعو: { $reason }
warning-other = ثمة ما يبدو غير سليم

## Deliveries that wait

delay-quota-full = تعذّر تسليم دعوة حتى الآن (سعة تخزين هذا الحساب لدى المُرحِّل ممتلئة)؛ وستُرسل مرة أخرى
delay-inbox-full = تعذّر تسليم دعوة حتى الآن (صندوق وارد المدعو لدى المُرحِّل ممتلئ)؛ وستُرسل مرة أخرى
delay-other = عملية تسليم قيد الانتظار؛ وستُرسل مرة أخرى

## Roles, policies, history modes

role-reader = قارئ
role-contributor = مساهم
role-content-manager = مدير المحتوى
role-space-manager = مدير المساحة
policy-open = مفتوحة
policy-on-request = بناءً على طلب
policy-confidential = سرّية
history-keep = السجلّ محفوظ
history-none = بلا سجلّ

## Events

event-account-created = أُنشئ الحساب.
event-invited = دعاك { $by } إلى «{ $space }».
event-joined = أنت الآن في «{ $space }».
event-removed = لم تعد في «{ $space }».
event-recreated = أُعيد إنشاء «{ $space }» من دون العضو الذي تسبّب في توقفها؛ وهي تستمر الآن بوصفها { $successor }.
event-uploaded = رُفع ملف حجمه { $bytes } بايت إلى «{ $space }».
event-downloaded = نُزِّل ملف حجمه { $bytes } بايت من «{ $space }».
event-library-changed = تغيّرت مكتبة «{ $space }».
event-note-changed = تغيّرت ملاحظة في «{ $space }».
event-note-version-named = سُمّيت نسخة من ملاحظة في «{ $space }».
event-notify-post = نشر { $from } في «{ $space }»
event-notify-reply = ردّ عليك { $from } في «{ $space }»
event-notify-reaction = تفاعل { $from } مع عنصرك في «{ $space }»
event-join-admitted = طلب { $name } ({ $identity }) الانضمام إلى «{ $space }» وقُبل طلبه.
event-join-requested = يطلب { $name } ({ $identity }) الانضمام إلى «{ $space }».
event-identity-changed = { $was_verified ->
    [true] تنبيه أمني: تغيّر مفتاح هوية { $name } (من { $previous } إلى { $current })؛ وكان قد جرى التحقق من المفتاح القديم. لن يُستخدم المفتاح الجديد في أي شيء إلى أن تقارن أرقام الأمان وتقبله.
   *[false] تنبيه أمني: تغيّر مفتاح هوية { $name } (من { $previous } إلى { $current }). لن يُستخدم المفتاح الجديد في أي شيء إلى أن تقارن أرقام الأمان وتقبله.
}
event-device-added = انضمّ جهاز جديد يخص { $name } ({ $device }) إلى «{ $space }»: وسيقرأ كل ما فيها من الآن فصاعدًا.
event-identity-rotated = تنبيه أمني: استبدل { $name } مفتاح هويته (من { $previous } إلى { $current })، بانتقال موقَّع بالمفتاح القديم. قارن أرقام الأمان معه مجددًا قبل الوثوق به.
event-delivery-waiting = في «{ $space }»: { $reason }.
event-rejected = مرفوض: { $reason }
event-security-warning-in = تنبيه أمني في «{ $space }»: { $reason }
event-security-warning = تنبيه أمني: { $reason }
