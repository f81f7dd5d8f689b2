# What the desktop app's screens say. The names of people and spaces are variables;
# Fluent isolates them, and the screens put user content in elements of its own
# direction (dir="auto").

## First run and unlocking

desktop-welcome-title = مرحبًا بك في Huis Clos
desktop-welcome-intro = مكان مشفّر من طرف إلى طرف لشبكتك. ما تكتبه يُختم على هذا الحاسوب قبل أن يغادره، ولا يستطيع قراءته إلا أعضاء المساحة.
desktop-create-heading = إنشاء ملفك الشخصي
desktop-name-label = اسمك كما يراه الآخرون
desktop-passphrase-label = عبارة المرور
desktop-passphrase-again-label = أعد إدخال عبارة المرور نفسها
desktop-passphrases-differ = عبارتا المرور مختلفتان.
desktop-passphrase-strength = قوة عبارة المرور: { $strength ->
    [0] ضعيفة جدًا
    [1] ضعيفة
    [2] مقبولة
    [3] قوية
   *[4] قوية جدًا
}
desktop-passphrase-rule = عدد المحارف: { $min } على الأقل، مع عدة كلمات لا رابط بينها.
desktop-suggest-button = اقتراح عبارة مرور قوية
desktop-create-button = إنشاء الملف الشخصي
desktop-unlock-heading = فتح قفل ملفك الشخصي
desktop-unlock-button = فتح القفل
desktop-join-heading = الانضمام إلى مُرحِّل شبكتك
desktop-join-intro = الصق الدعوة التي أعطاك إياها القائم على تشغيل المُرحِّل.
desktop-invitation-label = الدعوة
desktop-join-button = انضمام

## The window

desktop-nav-label = التنقل الرئيسي
desktop-spaces-heading = المساحات
desktop-no-spaces = لا توجد مساحات بعد. أنشئ مساحة، أو انتظر دعوة.
desktop-unread = { $count ->
    [zero] لا عناصر غير مقروءة
    [one] عنصر واحد غير مقروء
    [two] عنصران غير مقروءين
    [few] { $count } عناصر غير مقروءة
    [many] { $count } عنصرًا غير مقروء
   *[other] { $count } عنصر غير مقروء
}
desktop-new-space-button = مساحة جديدة
desktop-card-button = بطاقة اتصالي
desktop-settings-button = الإعدادات
desktop-sync-button = مزامنة الآن
desktop-connection-online = متصل
desktop-connection-offline = غير متصل: ما تكتبه ينتظر الإرسال
desktop-connection-via = متصل عبر { $transport }
desktop-connection-retrying = محاولة جديدة بعد { $seconds } ث
desktop-item-waiting = في انتظار الإرسال
desktop-waiting-to-send = { $count ->
    [zero] لا عناصر بانتظار الإرسال
    [one] عنصر واحد بانتظار الإرسال
    [two] عنصران بانتظار الإرسال
    [few] { $count } عناصر بانتظار الإرسال
    [many] { $count } عنصرًا بانتظار الإرسال
   *[other] { $count } عنصر بانتظار الإرسال
}
desktop-close-button = إغلاق
desktop-cancel-button = إلغاء

## A new space

desktop-new-space-heading = مساحة جديدة
desktop-space-name-label = الاسم
desktop-space-description-label = الوصف (اختياري)
desktop-space-policy-label = من يحق له الانضمام
desktop-space-history-label = يقرأ الأعضاء الجدد ما كُتب قبل انضمامهم
desktop-create-space-button = إنشاء المساحة

## Invitations

desktop-invitations-heading = الدعوات
desktop-invitation = يدعوك { $by } إلى «{ $space }».
desktop-invitation-unknown = لديك دعوة إلى «{ $space }».
desktop-accept-button = قبول

## A space

desktop-feed-heading = الموجز
desktop-members-heading = الأعضاء
desktop-feed-empty = لم يُنشر أي شيء هنا بعد.
desktop-composer-label = اكتب في المساحة
desktop-post-button = نشر
desktop-comment-label = ردّك
desktop-comment-button = ردّ
desktop-react-button = التفاعل بـ { $reaction }
desktop-edited = مُعدَّل
desktop-deleted = حُذف هذا العنصر.
desktop-load-more-button = منشورات أقدم
desktop-invite-heading = دعوة شخص
desktop-card-label = بطاقة اتصال الشخص المدعو
desktop-role-label = الدور
desktop-invite-button = دعوة
desktop-invite-sent = الدعوة في طريقها.
desktop-member-devices = { $count ->
    [zero] لا أجهزة
    [one] جهاز واحد
    [two] جهازان
    [few] { $count } أجهزة
    [many] { $count } جهازًا
   *[other] { $count } جهاز
}

## Your contact card

desktop-card-heading = بطاقة الاتصال الخاصة بك
desktop-card-help = أعطِ هذه البطاقة للشخص الذي سيدعوك إلى مساحة: سيلصقها في تطبيقه.

## Settings

desktop-settings-heading = الإعدادات
desktop-language-label = اللغة
desktop-lock-button = القفل الآن
desktop-wipe-heading = المسح الطارئ
desktop-wipe-help = يُتلف هذا الملف الشخصي على هذا الحاسوب فورًا: لن يمكن قراءة أي شيء منه مرة أخرى.
desktop-wipe-confirm-label = اكتب WIPE للتأكيد
desktop-wipe-button = مسح هذا الملف الشخصي
desktop-wiped = أُتلف الملف الشخصي.

## What happened

desktop-security-heading = الأمان
desktop-refused-heading = مرفوض

## أقسام المساحة

desktop-space-sections-label = أقسام هذه المساحة
desktop-tab-feed = المنشورات
desktop-tab-library = المكتبة
desktop-tab-members = الأعضاء

## تغيير ما كُتب

desktop-edit-button = تعديل
desktop-edit-label = النص الجديد
desktop-save-button = حفظ
desktop-delete-button = حذف
desktop-delete-confirm = حذف هذا لدى الجميع؟
desktop-edited-by-moderator = عدّله الإشراف
desktop-yes-button = نعم
desktop-no-button = لا

## الأعضاء وطلبات الانضمام وبطاقة المساحة

desktop-you = (أنت)
desktop-role-of = دور { $name }
desktop-role-changed = لـ{ $name } دور جديد.
desktop-remove-button = إزالة
desktop-remove-confirm = إزالة { $name } من هذه المساحة؟ لن يكون أي شيء يُكتب بعد ذلك مقروءًا لهذا الشخص.
desktop-member-removed = تمت إزالة { $name }.
desktop-requests-heading = طلبات الانضمام
desktop-requests-empty = لا أحد ينتظر الانضمام.
desktop-approve-button = قبول
desktop-decline-button = رفض
desktop-space-card-heading = بطاقة هذه المساحة
desktop-space-card-help = من يحمل هذه البطاقة يمكنه طلب الانضمام، ويقرّر مدير المساحة.
desktop-show-card-button = عرض البطاقة
desktop-qr-alt = رمز QR للبطاقة أدناه
desktop-leave-heading = مغادرة هذه المساحة
desktop-leave-button = مغادرة
desktop-leave-confirm = مغادرة «{ $space }»؟ ستحتاج إلى دعوة جديدة للعودة.

## المكتبة

desktop-folder-path-label = المجلد
desktop-library-top = المكتبة
desktop-upload-button = رفع ملفات
desktop-new-folder-button = مجلد جديد
desktop-new-note-button = ملاحظة جديدة
desktop-drop-hint = أو أفلت الملفات هنا
desktop-folder-name-label = اسم المجلد
desktop-note-name-label = اسم الملاحظة
desktop-create-button-short = إنشاء
desktop-folder-empty = هذا المجلد فارغ.
desktop-kind-folder = مجلد
desktop-kind-file = ملف
desktop-kind-note = ملاحظة
desktop-rename-button = إعادة تسمية
desktop-rename-label = الاسم الجديد
desktop-trash-button = نقل إلى المهملات
desktop-show-trash-button = عرض المهملات
desktop-hide-trash-button = إخفاء المهملات
desktop-trash-heading = المهملات
desktop-trash-empty = المهملات فارغة.
desktop-restore-button = استعادة
desktop-download-button = تنزيل
desktop-versions-button = الإصدارات
desktop-preview-alt = معاينة { $name }
desktop-keep-metadata = الإبقاء على البيانات الوصفية للصور
desktop-keep-metadata-warning = الصور التي ترفعها الآن تحتفظ بمكان التقاطها ووقته والكاميرا المستخدمة، ويمكن لكل الأعضاء قراءتها. استخدم ذلك فقط للأدلة التي يجب أن يظهر مصدرها.
desktop-versions-count = { $count ->
    [zero] لا إصدارات
    [one] إصدار واحد
    [two] إصداران
    [few] { $count } إصدارات
    [many] { $count } إصدارًا
   *[other] { $count } إصدار
}
desktop-version = الإصدار { $number }
desktop-uploading = جارٍ رفع { $name }
desktop-downloading = جارٍ تنزيل { $name }
desktop-upload-done = رُفع.
desktop-download-done = حُفظ في التنزيلات باسم { $name }.
desktop-file-too-large = { $name } أكبر من أن يُرفع من هنا (الحد الأقصى { $max }).

## ملاحظة

desktop-back-button = رجوع
desktop-preview-button = معاينة
desktop-note-text-label = نص الملاحظة، بصيغة Markdown
desktop-note-saved = حُفظت وخُتمت.
desktop-note-also-here = في هذه الملاحظة أيضاً: { $names }

## الأجهزة وجهات الاتصال

desktop-people-button = الأجهزة وجهات الاتصال
desktop-people-heading = الأجهزة وجهات الاتصال
desktop-devices-heading = أجهزتك
desktop-this-device = (هذا الحاسوب)
desktop-device-since = رُبط في { $date }
desktop-revoke-button = إلغاء
desktop-revoke-confirm = إلغاء { $name }؟ لن يتمكن من قراءة أي شيء يُكتب بعد ذلك.
desktop-link-button = ربط جهاز جديد
desktop-link-heading = عرض لجهاز جديد
desktop-link-help = على الجهاز الجديد، اختر ربطه بشخص موجود وأعطه هذا العرض. سيعرض عندها طلبًا: الصقه أدناه.
desktop-link-request-label = طلب الجهاز الجديد
desktop-link-check-button = التحقق من الطلب
desktop-link-code-help = يعرض الجهاز الجديد رمزًا. لا توافق إلا إذا كان هذا الرمز:
desktop-link-approve-button = الموافقة على هذا الجهاز
desktop-link-approved = رُبط { $name }.
desktop-contacts-heading = جهات الاتصال
desktop-contacts-empty = لا جهات اتصال بعد: يظهر هنا الأشخاص الذين تشاركهم مساحة.
desktop-verified = موثَّق
desktop-not-verified = غير موثَّق
desktop-key-changed = تغيّر مفتاح { $name }. قارن أرقام الأمان مجددًا قبل الوثوق به.
desktop-safety-number-button = رقم الأمان
desktop-safety-number-help = قارن هذا الرقم مع { $name }، وجهًا لوجه أو عبر مكالمة موثوقة. إن كان مطابقًا، فضع علامة التوثيق.
desktop-mark-verified-button = وضع علامة التوثيق
desktop-accept-key-button = قبول المفتاح الجديد
desktop-accept-key-confirm = قبول المفتاح الجديد لـ{ $name }؟ لا تفعل ذلك إلا بعد مقارنة أرقام الأمان.

## القفل

desktop-lock-after-label = القفل بعد هذه المدة دون استخدام
desktop-lock-never = أبدًا
desktop-lock-after-minutes = { $count ->
    [zero] لا دقائق
    [one] دقيقة واحدة
    [two] دقيقتان
    [few] { $count } دقائق
    [many] { $count } دقيقةً
   *[other] { $count } دقيقة
}

## كلمات الاستعادة وعبارة الإكراه

desktop-words-heading = كلمات الاستعادة
desktop-words-intro = هذه الكلمات الأربع والعشرون هي هويتك. إذا فُقد هذا الحاسوب، فهي تعيدك على حاسوب جديد. اكتبها على ورقة بالترتيب، واحفظ الورقة بعيدًا عن هذا الحاسوب.
desktop-words-warning = من يقرأ هذه الكلمات يستطيع انتحال هويتك. لا تصوّرها أبدًا، ولا تكتبها في أي مكان آخر.
desktop-words-written-button = كتبتها
desktop-words-check-heading = تحقّق من اثنتين منها
desktop-word-at-label = الكلمة رقم { $position }
desktop-words-check-button = تحقّق
desktop-words-show-again-button = اعرض الكلمات مرة أخرى
desktop-words-wrong = ليست هذه الكلمة في هذا الموضع. راجع ورقتك مرة أخرى.
desktop-words-settings-help = اكتب عبارة المرور لترى كلمات الاستعادة مرة أخرى.
desktop-words-show-button = اعرض كلمات الاستعادة
desktop-words-hide-button = أخفِ الكلمات
desktop-duress-heading = عبارة الإكراه
desktop-duress-help = إذا أجبرك أحد على فتح قفل هذا الحاسوب، فاكتب هذه العبارة بدل عبارتك: يُتلف ملفك الشخصي دون أثر ويُفتح مكانه ملف شخصي غير ضار.
desktop-duress-current-label = عبارة المرور الخاصة بك
desktop-duress-label = عبارة الإكراه
desktop-decoy-name-label = الاسم في الملف الشخصي غير الضار (اسمك إن تُرك فارغًا)
desktop-decoy-invitation-label = دعوة إلى المُرحِّل للملف الشخصي غير الضار (اختياري)
desktop-duress-set = تم ضبط عبارة الإكراه.
desktop-duress-button = اضبط عبارة الإكراه

## الإشعارات

desktop-notifications-label = الإشعارات
desktop-notifications-off = بلا إشعارات
desktop-notifications-without-content = دون محتوى (فقط أن هناك جديدًا)
desktop-notifications-with-content = مع اسم المساحة والاسم والنص
desktop-notifications-help = يمكن قراءة الإشعار على الشاشة ويحتفظ به النظام، حتى عندما يكون التطبيق مقفلًا.
desktop-notify-without-content = جديد في إحدى مساحاتك.
desktop-notify-post = { $name }: { $text }
desktop-notify-reply = ردّ عليك { $name }: { $text }
desktop-notify-reaction = تفاعل { $name } مع ما كتبته.

## صور QR وطلبات الانضمام

desktop-qr-open-button = افتح صورة QR
desktop-qr-not-an-image = هذا الملف ليس صورة يستطيع التطبيق قراءتها (PNG أو JPEG أو GIF، بحد أقصى 20 ميغابايت).
desktop-qr-none = تعذّرت قراءة أي رمز QR في هذه الصورة.
desktop-ask-heading = اطلب الانضمام إلى مساحة
desktop-space-card-label = بطاقة المساحة
desktop-ask-note-label = ملاحظة لمديري المساحة (اختياري)
desktop-ask-button = اطلب الانضمام
desktop-asked = أُرسل طلبك. ستظهر المساحة هنا بعد قبولك.

## ربط هذا الحاسوب بشخص موجود

desktop-link-this-question = هل تستخدم Huis Clos على جهاز آخر؟
desktop-link-this-button = اربط هذا الحاسوب به
desktop-link-this-heading = ربط هذا الحاسوب
desktop-link-this-intro = على جهازك الآخر، افتح «الأجهزة» واختر ربط جهاز جديد. الصق هنا العرض الذي يظهره، أو افتح صورة لرمز QR الخاص به.
desktop-link-offer-label = العرض من جهازك الآخر
desktop-link-start-button = اطلب الربط
desktop-link-request-help = على جهازك الآخر، الصق هذا الطلب (أو امسح رمز QR الخاص به) حيث يطلب طلب الجهاز الجديد.
desktop-link-request-qr-alt = طلب هذا الحاسوب كرمز QR
desktop-link-request-shown-label = طلب هذا الحاسوب
desktop-link-code-compare = سيعرض جهازك الآخر عندها رمزًا. وافق هناك فقط إذا كان هو هذا:
desktop-link-waiting = في انتظار الموافقة…
desktop-link-cancel-button = التخلي عن الربط
desktop-link-cancel-confirm = التخلي عن ربط هذا الحاسوب؟ يُتلف ما أعدّه، ويمكنك البدء من جديد.

## الفتح بسلسلة مفاتيح النظام

desktop-protection-label = كيف يُفتح هذا الملف الشخصي
desktop-protection-passphrase = بعبارة مرور أكتبها في كل مرة
desktop-protection-keychain = بسلسلة مفاتيح هذا الحاسوب، دون عبارة مرور
desktop-protection-keychain-warning = كل من يستطيع فتح جلستك على هذا الحاسوب يستطيع عندها فتح Huis Clos، ولا يمكن ضبط عبارة إكراه. اختر عبارة مرور إذا كان الحاسوب معرّضًا للمصادرة.
desktop-unlock-keychain-help = يُفتح هذا الملف الشخصي بسلسلة مفاتيح هذا الحاسوب.
desktop-duress-needs-passphrase = تتطلب عبارة الإكراه ملفًا شخصيًا يُفتح بعبارة مرور؛ وهذا يُفتح بسلسلة المفاتيح.

## المقارنة برموز QR

desktop-verify-qr-help = أو قارن برموز QR: يمسح { $name } رمزك، وتفتح أنت صورة لرمزه.
desktop-verify-qr-alt = رمزك ليمسحه { $name }
desktop-verify-scan-button = افتح صورة لرمز { $name }
desktop-verify-match = الرمزان متطابقان: تم التحقق من { $name }.
desktop-verify-mismatch = الرمزان غير متطابقين. لا تثق بجهة الاتصال هذه حتى تعرف السبب: قد يكون أحد ما في الوسط، أو تغيّر مفتاح { $name }.
