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
