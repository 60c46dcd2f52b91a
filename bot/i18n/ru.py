"""Russian strings: every key of `en.py`, with the same `{fields}` and HTML tags.

Why complete rather than fall back: a Russian speaker should never meet an English sentence in
the middle of a conversation; `tests/test_catalogue.py` checks that the keys and fields match.
Counted things are `Plural`s with the three CLDR forms (one: 1, 21…; few: 2–4, 22…; many: 5–20,
25…, 0), each in the case its sentence needs ("на 21 песню", "до 21 символа").
"""

from typing import Final

from bot.i18n.plural import Plural

RU: Final[dict[str, str | Plural]] = {
    # --- /song parser and audio tools ---
    "usage_empty": (
        "Напишите стиль в первой строке, а текст песни — ниже:\n"
        "<code>/song мечтательный синти-поп\n[Verse]\nНеон горит над мокрым городом…</code>\n\n"
        "Ещё варианты:\n"
        "• <code>/song лоу-фай пианино</code> — инструментал без слов\n"
        "• <code>/song морская песня | Йо-хо, на рассвете в путь</code> — всё в одной строке\n"
        "• ответьте <code>/song панк-рок</code> на сообщение с текстом песни\n\n"
        "Параметры пишутся перед стилем: <code>model:MiniMax-2.0</code>, "
        "<code>ref: https://…/take.mp3</code>, а также <code>voice:</code>, "
        "<code>instrumental:</code> или <code>song:</code> — что записано в образце."
    ),
    "usage_no_style": (
        "Текст есть, а стиля нет. Напишите стиль в той же строке, что и команду, а текст — "
        "ниже:\n<code>/song мечтательный синти-поп\n[Verse]\nНеон горит…</code>"
    ),
    "usage_model_missing": (
        "Напишите модель сразу после <code>model:</code> без пробела, например "
        "<code>model:MiniMax-2.0</code>."
    ),
    "usage_too_long": "Слишком длинно: стиль и текст вместе — не больше 10 000 символов.",
    "error_ref_url": (
        "После <code>ref:</code> нужна ссылка <code>http://</code> или <code>https://</code> "
        "на аудиофайл, например <code>ref: https://example.com/take.mp3</code>."
    ),
    "error_ffmpeg_missing": (
        "На этом сервере не настроена обработка аудио, поэтому сейчас я не могу работать со "
        "звуком. Сообщите, пожалуйста, администратору бота."
    ),
    "error_media": (
        "Не получилось обработать это аудио. Если это ваш файл, попробуйте другой "
        "(MP3, WAV, OGG или M4A)."
    ),
    # --- status messages, outcomes, buttons, commands ---
    "status_queued": "⏳ <b>В очереди</b> · {model}",
    "status_waiting": "⏳ <b>Песня в очереди</b> · номер {position} · {model}",
    "status_preparing": "🎙 <b>Готовлю ваш образец</b> · {model}",
    "status_generating": "🎵 <b>Создаю песню</b> · {model} · {elapsed}",
    "status_generating_eta": "🎵 <b>Создаю песню</b> · {model} · {elapsed} (обычно это занимает около {expected})",
    "status_sending": "📤 <b>Отправляю песню</b> · {model}",
    "status_done": "✅ <b>Готово</b> · {model} · {elapsed}",
    "status_cancelled": "🚫 <b>Отменено</b>",
    "status_failed": "⚠️ {reason_html}",
    "button_cancel": "❌ Отменить",
    "button_again": "🔁 Ещё раз",
    "button_lyrics": "📝 Текст",
    "button_vary": "🎲 Вариация",
    "song_caption": "🎵 <i>{style}</i>\n{model}",
    "song_caption_group": "🎵 <i>{style}</i>\nдля {mention} · {model}",
    "song_performer": "songbot · {model}",
    "song_too_big_link": (
        "🎵 Песня весит {size_mb} МБ, а Telegram принимает файлы не больше 50 МБ. {link} "
        "(ссылка действует около суток)."
    ),
    "song_link_label": "Скачать здесь",
    "error_generic": "С этим запросом что-то пошло не так. Попробуйте ещё раз.",
    "error_bad_input": "Из такого запроса песню не сделать.",
    "error_reference": "Это не подойдёт как образец.",
    "error_not_allowed": "Извините, здесь так нельзя.",
    "error_internal": (
        "У меня что-то сломалось (вы ни при чём). Попробуйте ещё раз через минуту."
    ),
    "error_unknown_model": "Модели <code>{model}</code> у меня нет. Есть такие: {known}.",
    "error_style_too_short": Plural(
        "limit",
        one="Опишите стиль чуть подробнее (для {model} нужен хотя бы {limit} символ), например <code>/song мечтательный синти-поп с женским вокалом</code>.",
        few="Опишите стиль чуть подробнее (для {model} нужно хотя бы {limit} символа), например <code>/song мечтательный синти-поп с женским вокалом</code>.",
        other="Опишите стиль чуть подробнее (для {model} нужно хотя бы {limit} символов), например <code>/song мечтательный синти-поп с женским вокалом</code>.",
    ),
    "error_model_no_lyrics": (
        "{model} делает только инструменталы и не поёт слова. Уберите текст или выберите "
        "другую модель через <code>model:</code>."
    ),
    "error_model_needs_lyrics": "Для {model} нужен текст: напишите его в строках после <code>/song &lt;стиль&gt;</code>.",
    "error_model_needs_reference": (
        "Для {model} нужен образец: отправьте команду подписью к голосовому или аудио, ответьте "
        "ею на такое сообщение или добавьте <code>ref: https://…</code>."
    ),
    "error_model_no_reference": (
        "{model} не умеет работать с образцом. Выберите модель, которая умеет: "
        "<code>model:MiniMax-01</code> или <code>model:MiniMax-Cover</code>."
    ),
    "error_too_many_waiting": Plural(
        "limit",
        one="В очереди уже {limit} ваша песня — больше нельзя. Дождитесь, пока она начнётся, или отмените её через /cancel.",
        few="В очереди уже {limit} ваши песни — больше нельзя. Дождитесь, пока одна из них начнётся, или отмените лишнюю через /cancel.",
        other="В очереди уже {limit} ваших песен — больше нельзя. Дождитесь, пока одна из них начнётся, или отмените лишнюю через /cancel.",
    ),
    "error_daily_limit": Plural(
        "limit",
        one="Дневной лимит исчерпан: {limit} песня в день. Он обнуляется в полночь по UTC.",
        few="Дневной лимит исчерпан: {limit} песни в день. Он обнуляется в полночь по UTC.",
        other="Дневной лимит исчерпан: {limit} песен в день. Он обнуляется в полночь по UTC.",
    ),
    "error_chat_not_allowed": "Извините, в этом чате бот недоступен.",
    "error_user_banned": "Извините, вы не можете заказывать песни у этого бота.",
    "error_admins_only_requests": "В этом чате песни могут заказывать только администраторы.",
    "error_reference_type": (
        "Образцом может быть только голосовое, аудиофайл или звук из видео, а не {kind}."
    ),
    "error_reference_too_big": (
        "Файл весит {size_mb} МБ, а я могу скачать не больше {limit_mb} МБ. "
        "Пришлите фрагмент покороче."
    ),
    "error_reference_too_short": (
        "Слишком коротко: {kind} длится всего {seconds}, а нужно больше {minimum} пения."
    ),
    "error_reference_too_long": (
        "Слишком длинно: {kind} длится {seconds}, а модель принимает не больше {maximum}. "
        "Обрежьте запись, пожалуйста."
    ),
    "diagnosis_no_audio": "он сообщил, что песня готова, но не прислал аудиофайл",
    "diagnosis_failed_no_reason": "он сообщил об ошибке, не объяснив причину",
    "error_timeout": (
        "Песня создавалась слишком долго ({waited}), и я перестал ждать. За неудачную попытку "
        "ничего не списано — попробуйте ещё раз."
    ),
    "error_interrupted": (
        "Меня перезапустили, пока песня запускалась, и я не знаю, началась ли она. Чтобы не "
        "запустить её дважды, отправьте, пожалуйста, запрос ещё раз."
    ),
    "error_generation_failed": (
        "Музыкальный сервис не смог сделать эту песню. Попробуйте ещё раз, возможно, "
        "другими словами."
    ),
    "error_generation_failed_reason": "Музыкальный сервис не смог сделать эту песню: {reason}",
    "error_provider_unavailable": (
        "У музыкального сервиса сейчас проблемы. Попробуйте через несколько минут."
    ),
    "error_undeliverable": "Не получилось доставить песню в этот чат.",
    "error_telegram_upload": (
        "Песня готова, но Telegram так и не принял файл. Попробуйте ещё раз через несколько минут."
    ),
    "start": (
        "👋 Привет! Я превращаю ваши тексты в настоящие песни.\n\n"
        "Напишите стиль в первой строке, а текст — ниже:\n"
        "<code>/song мечтательный синти-поп\n[Verse]\nНеон горит над заливом\n[Chorus]\n"
        "Останься, останься</code>\n\n"
        "/help покажет все способы."
    ),
    "cmd_start": "Приветствие и первый пример",
    "cmd_help": "Все способы заказать песню",
    "cmd_song": "Сделать песню: /song <стиль> + текст",
    "cmd_model": "Модель по умолчанию для этого чата",
    "cmd_jobs": "Ваши песни: в работе и недавние",
    "cmd_cancel": "Отменить песню в работе",
    "cmd_language": "Язык бота",
    "cancelled": (
        "🚫 Отменено: <i>{song}</i>. Песня уже начала создаваться, поэтому она всё равно "
        "засчитывается в сегодняшний лимит."
    ),
    "cancelled_short": "Отменено",
    "nothing_to_cancel": "У вас здесь нет песен в работе.",
    "not_your_job": "Это чужая песня.",
    "too_late_to_cancel": "Поздно отменять: песня уже отправляется.",
    # --- AI/ML API client ---
    "error_prompt_missing": "Опишите стиль: для {model} нужно короткое описание музыки.",
    "error_prompt_too_short": Plural(
        "length",
        one="В описании стиля {length} символ, а этой модели нужно минимум {limit}.",
        few="В описании стиля {length} символа, а этой модели нужно минимум {limit}.",
        other="В описании стиля {length} символов, а этой модели нужно минимум {limit}.",
    ),
    "error_prompt_too_long": Plural(
        "length",
        one="В описании стиля {length} символ, а эта модель принимает не больше {limit}.",
        few="В описании стиля {length} символа, а эта модель принимает не больше {limit}.",
        other="В описании стиля {length} символов, а эта модель принимает не больше {limit}.",
    ),
    "error_lyrics_too_short": Plural(
        "length",
        one="В тексте {length} символ, а этой модели нужно минимум {limit}.",
        few="В тексте {length} символа, а этой модели нужно минимум {limit}.",
        other="В тексте {length} символов, а этой модели нужно минимум {limit}.",
    ),
    "error_lyrics_too_long": Plural(
        "length",
        one="В тексте {length} символ, а эта модель принимает не больше {limit}.",
        few="В тексте {length} символа, а эта модель принимает не больше {limit}.",
        other="В тексте {length} символов, а эта модель принимает не больше {limit}.",
    ),
    "error_instrumental_with_lyrics": (
        "У инструментала не бывает слов. Уберите текст или закажите песню с вокалом."
    ),
    "error_reference_url_invalid": (
        "Ссылка на образец должна быть полным адресом <code>http://</code> или "
        "<code>https://</code>."
    ),
    "error_reference_base64_invalid": (
        "Не получилось прочитать аудио образца. Пришлите файл MP3 или WAV."
    ),
    "error_reference_data_too_big": (
        "Образец весит {size_mb} МБ; эта модель принимает не больше {limit_mb} МБ."
    ),
    "error_reference_both": "Пришлите образец либо ссылкой, либо файлом — что-то одно.",
    "error_refer_ids_missing": "Для {model} сначала нужен ваш образец. Отправьте запрос ещё раз вместе с ним.",
    "error_reference_format": "Образец должен быть файлом MP3 или WAV.",
    "error_duration_not_supported": "{model} не принимает длительность; уберите её.",
    "error_duration_out_of_range": (
        "Длительность должна быть от {minimum} до {maximum} (вы указали {seconds})."
    ),
    "error_option_invalid": "Параметр <code>{name}</code> не подходит для {model}.",
    "error_provider_key_invalid": (
        "Музыкальный сервис не принимает API-ключ бота. Сообщите, пожалуйста, администратору бота."
    ),
    "error_provider_no_credits": (
        "У бота закончились кредиты на музыку. Сообщите администратору бота или попробуйте позже."
    ),
    "error_provider_invalid_request": (
        "Музыкальный сервис отклонил запрос. Измените стиль или текст и попробуйте снова."
    ),
    "error_provider_rate_limited": (
        "Музыкальный сервис сейчас перегружен. Попробуйте через минуту."
    ),
    "error_content_rejected": (
        "Музыкальный сервис отказал по своим правилам о содержании. Попробуйте другой текст "
        "или другой стиль."
    ),
    "error_unknown_generation": (
        "Музыкальный сервис потерял эту песню. Отправьте запрос ещё раз."
    ),
    "error_submit_outcome_unknown": (
        "Связь с музыкальным сервисом прервалась, пока песня запускалась, поэтому я проверяю, "
        "началась ли она, прежде чем пробовать снова."
    ),
    "error_audio_download": "Песня готова, но скачать её не получилось. Попробуйте ещё раз.",
    "error_audio_expired": (
        "Ссылка на готовую песню истекла раньше, чем я успел её забрать. Отправьте запрос ещё раз."
    ),
    "error_audio_too_big": "Песня больше {limit_mb} МБ, поэтому я не могу её забрать.",
    "error_audio_not_audio": "Музыкальный сервис прислал не аудио, а что-то другое. Попробуйте ещё раз.",
    # --- issue #7: commands, menus, buttons, /jobs ---
    "help_forms": (
        "<b>Другие способы</b> (нажмите на пример, чтобы скопировать)\n"
        "• всё в одной строке: <code>/song морская песня | Йо-хо, на рассвете в путь</code>\n"
        "• ответьте <code>/song акустический фолк</code> на сообщение с текстом песни\n"
        "• модель для одной песни: <code>/song model:MiniMax-2.6 лоу-фай хип-хоп</code>"
    ),
    "help_models": (
        "<b>Модели</b> (<code>model:&lt;название&gt;</code> в /song или выбор для этого чата "
        "через /model)\n{lines_html}"
    ),
    "help_limits": "<b>Ограничения</b>",
    "help_daily_limit": Plural(
        "limit",
        one="• {limit} песня в день на человека (сброс в полночь по UTC)",
        few="• {limit} песни в день на человека (сброс в полночь по UTC)",
        other="• {limit} песен в день на человека (сброс в полночь по UTC)",
    ),
    "help_stars": Plural(
        "free",
        one="⭐ Песня стоит {price} ⭐, но {free} песня в день — бесплатно: /buy — купить пакет песен, /balance — сколько осталось.",
        few="⭐ Песня стоит {price} ⭐, но {free} песни в день — бесплатно: /buy — купить пакет песен, /balance — сколько осталось.",
        other="⭐ Песня стоит {price} ⭐, но {free} песен в день — бесплатно: /buy — купить пакет песен, /balance — сколько осталось.",
    ),
    # issue #16.9: which model takes voice notes, and music-01's retirement
    "model_moved": "больше недоступна, вместо неё работает {model}",
    "help_voice_model": "🎤 Голосовые и аудиофайлы поёт <b>{model}</b>.",
    "help_voice_model_moved": "🎤 {old} больше недоступна, поэтому голосовые и аудиофайлы теперь идут в <b>{model}</b>: она делает новую версию вашей записи (от 6 с до 6 мин).",
    "error_model_unavailable": "{model} больше недоступна в музыкальном сервисе. Выберите другую модель через /model.",
    "help_groups": (
        "<b>В группах</b>\n"
        "Пишите <code>/song@{bot} &lt;стиль&gt;</code>, а текст — в строках ниже, или ответьте "
        "этой командой на сообщение с текстом: я вижу только команды и ответы, адресованные мне. "
        "Модель (/model) и язык (/language) группы выбирают администраторы."
    ),
    "model_line": "{mark}<b>{title}</b>: {facts}",
    "model_lyrics_required": Plural(
        "limit",
        one="нужен текст (до {limit} символа)",
        other="нужен текст (до {limit} символов)",
    ),
    "model_lyrics_optional": Plural(
        "limit",
        one="текст по желанию (до {limit} символа)",
        other="текст по желанию (до {limit} символов)",
    ),
    "model_lyrics_none": "без текста",
    "model_instrumental": "умеет инструменталы",
    "model_reference_required": "нужен образец: {kind}",
    "model_reference_optional": "принимает образец: {kind}",
    "model_ref_upload": "голосовое или аудиофайл",
    "model_ref_url": "ссылка на аудио",
    "model_ref_any": "ссылка на аудио или файл",
    "model_length_seconds": "до {seconds}",
    "model_menu": (
        "<b>Модель по умолчанию для этого чата</b>\n"
        "Сейчас: {current}\n\n"
        "{lines_html}\n\n"
        "<code>model:</code> в команде /song всегда важнее, но только для этой песни."
    ),
    "model_now": "<b>{title}</b>",
    "model_now_auto": "автоматически: по тому, что вы присылаете (текст, инструментал, образец)",
    "button_model_default": "Автоматически (по запросу)",
    "answer_model_set": "Модель по умолчанию: {model}",
    "answer_model_cleared": "Снова автоматический выбор модели",
    "answer_admins_only": "Это могут менять только администраторы чата.",
    "language_menu": (
        "<b>Язык</b>\n"
        "Сейчас: {current}\n\n"
        "Я говорю на языке вашего Telegram, если вы не выберете другой здесь."
    ),
    "language_auto": "автоматически ({language})",
    "button_language_auto": "🌐 Автоматически (как в Telegram)",
    "answer_language_set": "Язык: {language}",
    "jobs_title": "<b>Ваши песни</b>",
    "jobs_line": "{n}. {icon} <b>{title}</b>\n{state} · {model} · {when}",
    "jobs_empty": (
        "Здесь у вас пока нет песен. Попробуйте:\n"
        "<code>/song мечтательный синти-поп | Неон горит над заливом</code>"
    ),
    "jobs_hint": "Нажмите ▶️, чтобы получить песню снова, или ❌, чтобы отменить ещё не готовую.",
    "state_received": "в очереди",
    "state_preparing": "готовлю образец",
    "state_submitting": "создаётся",
    "state_pending": "создаётся",
    "state_fetching": "отправляется",
    "state_delivering": "отправляется",
    "state_delivered": "доставлена",
    "state_failed": "не получилась",
    "state_timed_out": "не успела",
    "state_cancelled": "отменена",
    "state_interrupted": "прервана",
    "ago_now": "только что",
    "button_resend": "▶️ {n}. {title}",
    "button_cancel_job": "❌ {n}. {title}",
    "answer_resend": "Вот она снова.",
    "answer_no_file": "Эту песню нельзя отправить снова: файла у неё не было.",
    "answer_not_found": "Не могу найти эту песню.",
    "resend_failed": "У Telegram больше нет этого файла, поэтому отправить его снова не выйдет.",
    "again_started": "🔁 <b>Ещё раз</b>: <i>{style}</i> · {model}",
    "vary_model": "🎲 <b>Вариация</b>: тот же текст, но теперь {model} вместо {previous}.",
    "vary_style": ("🎲 <b>Вариация</b>: та же модель ({model}) с новым стилем: <i>{style}</i>"),
    "vary_retake": "🎲 <b>Вариация</b>: ещё один дубль на {model} (модель следует вашему образцу, а не стилю).",
    "answer_again": "🔁 Новый дубль уже в пути.",
    "answer_vary": "🎲 Вариация уже в пути.",
    "answer_busy": "Уже в пути.",
    "answer_refused": "Не могу это запустить — подробности в сообщении ниже.",
    "answer_stale": "Эта кнопка больше не работает. Отправьте команду ещё раз.",
    "answer_no_lyrics": "Это инструментал: у него нет текста.",
    "lyrics_header": "📝 <b>{title}</b>",
    "lyrics_truncated": "(остальное обрезано по ограничениям Telegram)",
    "cancelled_not_started": (
        "🚫 Отменено: <i>{song}</i>. Песня ещё не начала создаваться, так что в лимит она не "
        "засчитывается."
    ),
    # --- groups (shared board) and admin commands ---
    "board": (
        "🎵 <b>Песни в работе</b>: создаются — {working}, ждут — {waiting}, готовы — {done} "
        "(всего {total})\n"
        "Для: {names}\n"
        "На каждый запрос я отвечу его песней."
    ),
    "board_finished": "✅ <b>Всё готово</b>: доставлено — {done}, без песни — {failed}.",
    "error_operators_only": "Извините, это могут делать только операторы бота.",
    "error_chat_admins_only": "Извините, настройки группы меняют только её администраторы.",
    "error_group_only": "Эта настройка только для групп.",
    "error_cannot_ban_operator": "Операторов бота нельзя заблокировать.",
    "usage_ban": (
        "Используйте <code>/ban &lt;id пользователя&gt;</code> (или ответьте так на его "
        "сообщение)."
    ),
    "banned": "Пользователь <code>{user_id}</code> заблокирован: его запросы игнорируются.",
    "unbanned": "Пользователь <code>{user_id}</code> снова может заказывать песни.",
    "requests_usage": (
        "Кто может заказывать песни здесь: <b>{current}</b>. Изменить: "
        "<code>/requests everyone</code> или <code>/requests admins</code>."
    ),
    "requests_set": "Теперь песни здесь могут заказывать: <b>{who}</b>.",
    "stats": (
        "<b>Статистика songbot</b>\n"
        "Задачи по состояниям: {states}\n"
        "Сегодня: песен — {today}, кредитов — {credits_today}\n"
        "Всего: песен — {total}, кредитов — {credits_total} (возвращено: {refunded})\n\n"
        "<b>Самые активные</b>\n{top}\n\n"
        "<b>Среднее время генерации</b>\n{models}"
    ),
    "stats_top_line": "• {name} (<code>{user_id}</code>): {count}",
    "stats_model_line": "• <code>{model}</code>: {avg}",
    # --- references ---
    "ref_kind_voice": "голосовое",
    "ref_kind_audio": "аудиофайл",
    "ref_kind_document": "файл",
    "ref_kind_file": "файл",
    "ref_kind_video": "видео",
    "ref_kind_video_note": "видеосообщение",
    "ref_kind_photo": "фото",
    "ref_kind_sticker": "стикер",
    "ref_kind_image_file": "файл с картинкой",
    "ref_kind_typed_file": "файл {type}",
    "reference_spoken_notice": (
        "🎤 Учтите: музыкальный сервис подстраивается под <b>пение</b>, поэтому голосовое с "
        "обычной речью обычно даёт странный результат. Я всё равно попробую. Если вы пели, "
        "начните команду с <code>voice:</code> (или <code>song:</code>, если на записи есть и "
        "музыка), и я не буду об этом напоминать."
    ),
    "error_reference_unavailable": "Telegram больше не отдаёт ваш образец ({kind}). Пришлите его ещё раз.",
    "error_reference_no_audio": (
        "В вашем образце ({kind}) нет звука, так что повторять нечего. Пришлите запись со звуком."
    ),
    "error_model_reference_file_only": (
        "Для {model} образец нужно прислать сюда голосовым или аудиофайлом, а не ссылкой. Для "
        "ссылки подойдут <code>model:MiniMax-Cover</code> и <code>model:MiniMax-Legacy</code>."
    ),
    "error_model_reference_link_only": (
        "{model} принимает образец только ссылкой (<code>ref: https://…</code>). Для голосового "
        "или аудиофайла используйте <code>model:MiniMax-01</code> или <code>model:MiniMax-Cover</code>."
    ),
    "error_reference_lyrics_too_long": Plural(
        "limit",
        one="С образцом {model} поёт не больше {limit} символа текста, а у вас {length}. Сократите текст или отправьте песню без образца (другие модели принимают до 3 000).",
        other="С образцом {model} поёт не больше {limit} символов текста, а у вас {length}. Сократите текст или отправьте песню без образца (другие модели принимают до 3 000).",
    ),
    # --- /write (issue #18) ---
    "cmd_write": "Текст по вашей идее: /write <идея>",
    "button_write_make": "🎵 Сделать песню",
    "button_write_redo": "🔄 Переписать",
    "button_write_edit": "✏️ Изменить",
    "usage_write": (
        "Напишите, о чём песня, например <code>/write песня на день рождения сестры Ани, "
        "которая любит кошек</code>, или ответьте <code>/write</code> на сообщение с идеей."
    ),
    "error_write_idea_too_long": Plural(
        "length",
        one="В идее {length} символ, а хватит и {limit}. Скажите, пожалуйста, короче.",
        few="В идее {length} символа, а хватит и {limit}. Скажите, пожалуйста, короче.",
        other="В идее {length} символов, а хватит и {limit}. Скажите, пожалуйста, короче.",
    ),
    "write_working": "✍️ Пишу текст…",
    "write_preview": Plural(
        "limit",
        one="📝 <b>{title}</b>\nСтиль: <i>{style}</i>\nДля {model} · {length} из {limit} символа\n\n{lyrics}",
        other="📝 <b>{title}</b>\nСтиль: <i>{style}</i>\nДля {model} · {length} из {limit} символов\n\n{lyrics}",
    ),
    "write_preview_made": "🎵 Песня заказана.",
    "write_edit_hint": (
        "✏️ Чтобы изменить слова, ответьте на текст выше командой <code>{command} {style}</code>, "
        "а свою версию текста напишите в строках ниже. Если ответить одной командой "
        "<code>{command} {style}</code>, я спою текст как есть."
    ),
    "error_lyrics_daily_limit": Plural(
        "limit",
        one="Сегодня вы уже написали {limit} черновик — это дневной лимит. Он сбросится в полночь по UTC.",
        few="Сегодня вы уже написали {limit} черновика — это дневной лимит. Он сбросится в полночь по UTC.",
        other="Сегодня вы уже написали {limit} черновиков — это дневной лимит. Он сбросится в полночь по UTC.",
    ),
    "error_lyrics_refused": (
        "Модель текстов отказалась писать на эту тему. Попробуйте сформулировать иначе."
    ),
    "error_lyrics_empty": "Модель текстов ничего не ответила. Попробуйте ещё раз чуть позже.",
    "error_lyrics_unusable": (
        "Ответ модели текстов не удалось использовать даже со второй попытки. Попробуйте ещё раз "
        "или перефразируйте идею."
    ),
    "answer_write_not_yours": "Эти кнопки — для автора запроса (или админа).",
    "answer_write_making": "🎵 Уже делаю.",
    "answer_write_redo": "🔄 Пишу новую версию…",
    "answer_write_edit": "✏️ Смотрите сообщение ниже.",
    "answer_write_made": "Из этого текста уже сделана песня: нажмите 🔁 под ней.",
    "help_write": (
        "<b>Нет текста?</b>\n"
        "<code>/write песня на день рождения сестры, которая любит кошек</code>: я напишу "
        "название, стиль и текст, чтобы вы сначала посмотрели. Ничего не создаётся, пока вы не "
        "нажмёте 🎵 Сделать песню; 🔄 пишет новую версию, ✏️ объясняет, как изменить слова."
    ),
    "help_write_limit": Plural(
        "limit",
        one="• {limit} черновик текста в день на человека",
        few="• {limit} черновика текста в день на человека",
        other="• {limit} черновиков текста в день на человека",
    ),
    # --- Telegram Stars (handlers/stars.py, bot/intake/stars.py) ---
    "stars_payment_required": "Песня стоит {price} ⭐, а бесплатные песни на сегодня закончились. Купите пакет песен за Telegram Stars:",
    "stars_pack_button": Plural(
        "songs",
        one="{songs} песня за {stars} ⭐",
        few="{songs} песни за {stars} ⭐",
        other="{songs} песен за {stars} ⭐",
    ),
    "stars_invoice_title": Plural(
        "songs", one="{songs} песня", few="{songs} песни", other="{songs} песен"
    ),
    "stars_invoice_description": Plural(
        "songs",
        one="Кредиты на {songs} песню. Если песня не получится, кредит вернётся.",
        few="Кредиты на {songs} песни. Если песня не получится, кредит вернётся.",
        other="Кредиты на {songs} песен. Если песня не получится, кредит вернётся.",
    ),
    "stars_invoice_label": Plural(
        "songs", one="{songs} песня", few="{songs} песни", other="{songs} песен"
    ),
    "stars_checkout_off": "Этот бот больше не продаёт песни.",
    "stars_checkout_unknown": "Этот счёт больше не действует. Отправьте /buy, чтобы получить новый.",
    "stars_checkout_price": "Цена изменилась (песня теперь стоит {price} ⭐). Отправьте /buy, чтобы получить новый счёт.",
    "stars_off": "Песни здесь бесплатные: покупать нечего.",
    "stars_buy": Plural(
        "free",
        one="Песня стоит {price} ⭐, но {free} песня в день (по UTC) — бесплатно. Выберите пакет:",
        few="Песня стоит {price} ⭐, но {free} песни в день (по UTC) — бесплатно. Выберите пакет:",
        other="Песня стоит {price} ⭐, но {free} песен в день (по UTC) — бесплатно. Выберите пакет:",
    ),
    "stars_balance_unlimited": "Для вас песни здесь бесплатные: кредиты не нужны.",
    "stars_balance": Plural(
        "left",
        one="Осталась <b>{left}</b> песня\nБесплатных сегодня: {free}\nКредиты: {credits} (куплено {bought}, потрачено {used}, в работе {held})",
        few="Осталось <b>{left}</b> песни\nБесплатных сегодня: {free}\nКредиты: {credits} (куплено {bought}, потрачено {used}, в работе {held})",
        other="Осталось <b>{left}</b> песен\nБесплатных сегодня: {free}\nКредиты: {credits} (куплено {bought}, потрачено {used}, в работе {held})",
    ),
    "stars_pack_gone": "Этот пакет больше не продаётся. Отправьте /buy, чтобы увидеть сегодняшние пакеты.",
    "stars_paid": Plural(
        "left",
        one="Спасибо! Оплата получена. Теперь можно сделать <b>{left}</b> песню (кредитов: {credits}).",
        few="Спасибо! Оплата получена. Теперь можно сделать <b>{left}</b> песни (кредитов: {credits}).",
        other="Спасибо! Оплата получена. Теперь можно сделать <b>{left}</b> песен (кредитов: {credits}).",
    ),
    "stats_stars": "\n\n<b>Telegram Stars</b>\nПолучено {received} ⭐, возвращено {refunded} ⭐\nПесен за кредиты: {paid}, бесплатных: {free}",
    "stars_credit_returned": "Кредит за эту песню возвращён.",
    "stars_refund_usage": "Использование: <code>/refund &lt;telegram payment charge id&gt;</code>",
    "stars_refund_unknown": "Платежа с charge id {charge_id} нет.",
    "stars_refund_done": "Платёж {charge_id} уже возвращён.",
    "stars_refund_spent": Plural(
        "songs",
        one="Не возвращено: платёж {charge_id} оплатил {songs} песню, а неиспользованных кредитов у покупателя осталось меньше ({unused}).",
        few="Не возвращено: платёж {charge_id} оплатил {songs} песни, а неиспользованных кредитов у покупателя осталось меньше ({unused}).",
        other="Не возвращено: платёж {charge_id} оплатил {songs} песен, а неиспользованных кредитов у покупателя осталось меньше ({unused}).",
    ),
    "stars_refund_failed": "Telegram отказался вернуть {charge_id}: {reason}. Кредиты остаются у покупателя.",
    "stars_refunded": "Возвращено {stars} ⭐; списано кредитов: {songs}.",
    "cmd_buy": "Купить песни за Telegram Stars",
    "cmd_balance": "Сколько песен ещё можно сделать",
    # Kept songs (#16.6) and the failed-reference limit (#17.4).
    "button_send_again": "📤 Отправить снова",
    "upload_kept_hint": "Я сохранил песню: нажмите 📤 Отправить снова (здесь или в /jobs), когда Telegram заработает; заново ничего не создаётся и не списывается.",
    "answer_sending_again": "Отправляю снова…",
    "answer_unsent_gone": "Эта песня больше не хранится, отправить её снова не выйдет.",
    "resend_upload_failed": "Telegram снова не принял файл. Песня по-прежнему сохранена: попробуйте 📤 Отправить снова через несколько минут.",
    # --- identity: channels, anonymous admins and redaction (#24.2) ---
    "error_chat_sender_paid": "Песни в этом боте оплачивает каждый сам, поэтому от имени канала или анонимного администратора заказать их нельзя. Попросите от своего имени: напишите как вы сами, а не как канал, или отключите «Анонимность» в своих правах администратора, или напишите мне в личные сообщения.",
    "error_chat_sender_limit": "Сегодня каналы и анонимные администраторы больше не могут заказывать песни. Попросите от своего имени: напишите как вы сами, а не как канал, или отключите «Анонимность» в своих правах администратора, или напишите мне в личные сообщения.",
    # --- money: refunds, banned buyers, payments that buy no pack (#24.4, #24.13, #24.15) ---
    "stars_refund_pending": "Telegram не подтвердил возврат платежа {charge_id}, и в его списке транзакций возврата пока нет. Кредиты остаются списанными; <code>songbot stars reconcile --fix</code> завершит возврат, если Telegram его так и не сделал.",
    "stars_checkout_banned": "К сожалению, покупать песни в этом боте вам нельзя.",
    "stars_payment_unmatched": "Этот платёж не соответствует ни одному пакету песен в продаже, поэтому кредиты не начислены. Оператор бота видит платёж и может вернуть вам Stars.",
    # --- library: the library, sharing and song titles (#26.1, #26.2, #25.12) ---
    "cmd_songs": "Ваши песни: слушать, искать, делиться",
    "button_library": "📚 Мои песни",
    "button_prev": "◀️",
    "button_next": "▶️",
    "library_title": "📚 <b>Ваши песни</b>",
    "library_title_group": "📚 <b>Песни этого чата</b>",
    "library_search_title": "🔎 <b>Песни со словами «{words}»</b>",
    "library_line": "{n}. <b>{title}</b> · {duration} · {date}",
    "library_page": "Страница {page}",
    "library_hint": "Нажмите на песню, чтобы прослушать, поделиться, переименовать или удалить её. Поиск: <code>/songs слова из названия или текста</code>",
    "library_empty": "Здесь пока нет песен. Каждая песня, которую я пришлю, хранится здесь, пока вы её не удалите. Начните с /song.",
    "library_no_match": "Ни в одном названии или тексте нет «{words}».",
    "song_card": "🎵 <b>{title}</b>\n<i>{style}</i>\n{model} · {duration} · {date}",
    "song_card_requester": "Заказчик: {mention}",
    "song_card_link": "🔗 Ссылка: {link}\nПрослушиваний по ссылке: {plays}",
    "button_song_send": "▶️ Прислать",
    "button_song_rename": "✏️ Переименовать",
    "button_song_delete": "🗑 Удалить",
    "button_song_share": "↗️ Поделиться",
    "button_song_link": "🔗 Ссылка",
    "button_song_unshare": "⛔ Закрыть доступ",
    "button_song_delete_yes": "🗑 Да, удалить",
    "button_song_delete_no": "Оставить",
    "song_delete_confirm": "Удалить «{title}» из библиотеки? Ссылка на неё и поиск через @ тоже перестанут работать. Сообщение с песней в этом чате останется.",
    "song_deleted": "🗑 Песня «{title}» удалена из библиотеки.",
    "song_rename_prompt": "✏️ Пришлите новое название для «{title}».",
    "song_renamed": "✏️ Новое название: «{title}».",
    "song_rename_empty": "В названии должна быть хотя бы одна буква или цифра. Пришлите другое.",
    "answer_song_gone": "Этой песни в библиотеке больше нет.",
    "answer_song_not_yours": "Это может сделать только тот, кто заказал песню, или администратор чата.",
    "answer_song_sending": "Отправляю…",
    "answer_rename_private": "Пришлите новое название мне в личные сообщения.",
    "answer_rename_start": "Сначала откройте чат со мной (нажмите на моё имя, затем «Запустить»), потом снова нажмите ✏️.",
    "answer_link_stopped": "Доступ закрыт: старая ссылка больше не работает.",
    "answer_no_song_yet": "Песня ещё не попала в библиотеку, попробуйте через минуту.",
    "song_link_made": "🔗 Любой, кто откроет эту ссылку, бесплатно получит от меня «{title}»:\n{link}\nЧтобы закрыть доступ, откройте песню в /songs и нажмите ⛔.",
    "shared_song_caption": "🎵 <b>{title}</b>\nАвтор: {name}, сделано в @{bot}.\nХотите свою? Пришлите <code>/song</code> и стиль, например: <code>/song тёплый акустический поп</code>",
    "shared_link_dead": "Ссылка больше не работает: песню удалили или закрыли к ней доступ. Сделайте свою с помощью /song.",
    "inline_caption": "🎵 <b>{title}</b>\nчерез @{bot}",
    "inline_make_button": "🎵 Сделать новую песню",
    "help_inline": "↗️ Делитесь песнями в любом чате: наберите <code>@{bot}</code> и слово из названия.",
    # --- flows: the newcomer's first minute, the guided flow, kept requests (#25, #26.3) ---
    "cmd_new": "Песня шаг за шагом",
    "flow_what_text": "🎵 Сделать из этого песню?\n\n<i>{text}</i>",
    "flow_what_new": "🎵 Давайте сделаем песню. Что у вас есть?",
    "button_flow_idea_text": "✍️ Написать текст по этой идее",
    "button_flow_inst_text": "🎹 Мелодия в этом настроении",
    "button_flow_lyrics_text": "📝 Это мой текст",
    "button_flow_idea": "💡 Идея: напишите текст за меня",
    "button_flow_lyrics": "📝 Свой текст",
    "button_flow_inst": "🎹 Мелодия без слов",
    "flow_ask_idea": "Опишите идею одним сообщением: о ком или о чём песня, какое настроение, пара деталей.",
    "flow_ask_lyrics": "Пришлите текст песни одним сообщением. Пометки вроде [Verse] и [Chorus] помогают.",
    "flow_ask_mood": "Опишите настроение или картину одним сообщением.",
    "flow_ask_style": "В каком стиле? Выберите или напишите свой, например <i>мечтательный синти-поп</i>.",
    "flow_reference_intro": "🎤 Запись получил: могу спеть в её духе.\nВ каком стиле? Выберите или напишите свой.",
    "flow_preset_1": "бодрый поп",
    "flow_preset_2": "акустический фолк",
    "flow_preset_3": "энергичный рок",
    "flow_preset_4": "лоу-фай хип-хоп",
    "flow_preset_5": "танцевальная электроника",
    "flow_preset_6": "фортепианная баллада",
    "flow_ask_voice": "Чьим голосом спеть?",
    "flow_voice_again": "Выберите голос кнопкой или напишите: женский, мужской или любой.",
    "button_voice_female": "👩 Женский",
    "button_voice_male": "👨 Мужской",
    "button_voice_any": "🎲 Любой",
    "flow_voice_female": "женский вокал",
    "flow_voice_male": "мужской вокал",
    "flow_ask_ref_lyrics": "Что спеть? Пришлите текст одним сообщением или сделайте без слов.",
    "button_flow_no_words": "🎹 Без слов",
    "flow_preview": "🎵 <b>Всё готово</b>\n{what}\nСтиль: {style}{voice}\n\n<i>{text}</i>",
    "flow_preview_voice": "\nГолос: {voice}",
    "flow_kind_idea": "✍️ Текст по вашей идее",
    "flow_kind_lyrics": "📝 Ваш текст",
    "flow_kind_instrumental": "🎹 Мелодия без слов",
    "flow_kind_reference": "🎤 В духе вашей записи",
    "flow_no_text": "(без слов)",
    "button_flow_make": "🎵 Сделать",
    "button_flow_write": "✍️ Написать текст",
    "button_flow_change": "✏️ Изменить",
    "button_flow_cancel": "❌",
    "flow_cancelled": "Отменено. Присылайте идею, когда захотите.",
    "flow_handed_to_write": "✍️ Пишу текст: черновик появится ниже.",
    "flow_made": "🎵 Уже в работе: песня придёт ответом сюда.",
    "answer_flow_making": "🎵 Уже в работе.",
    "answer_flow_done": "Это уже сделано.",
    "answer_flow_expired": "Срок истёк. Отправьте /new, чтобы начать заново.",
    "answer_flow_not_yours": "Это чужой запрос.",
    "answer_flow_cancelled": "Отменено.",
    "flow_other": "Из этого песню не сделать. Пришлите идею словами, свой текст или голосовое сообщение, или загляните в /help.",
    "flow_unknown_command": "Команды {command} я не знаю. Всё, что я умею, — в /help.",
    "flow_group_offer": "Шаг за шагом удобнее в личном чате:",
    "button_flow_open": "🎵 Песня шаг за шагом",
    "song_edit_made": "По этому сообщению песня уже сделана, правка ничего не изменит. Для новой отправьте новый /song.",
    "ask_lyrics_question": "Текста здесь нет. Написать текст по этой идее или сделать мелодию без слов?\nЧтобы в следующий раз обойтись без вопроса: <code>{command} instrumental: {style}</code>",
    "button_ask_write": "✍️ Написать текст",
    "button_ask_inst": "🎹 Без слов",
    "kept_paid_making": "🎵 Делаю песню, которую вы просили до оплаты.",
    "help_instrumental": "Мелодия без слов и без вопроса о тексте: <code>/song instrumental: lo-fi piano</code>. А /new проведёт по шагам.",
    "answer_remake_confirm": "Новая песня будет вашей и засчитается вам, а не автору этой песни. Нажмите ещё раз, чтобы продолжить.",
    "resend_done": "📤 Отправлено: песня уже в чате.",
    "answer_resend_done": "Уже отправлено.",
    "button_try_again": "🔁 Попробовать снова",
    "error_reference_failures": Plural(
        "n",
        one="Сегодня мне уже {n} раз не удалось использовать ваше голосовое или аудио, поэтому до завтра я их не принимаю. /song без них работает.",
        few="Сегодня мне уже {n} раза не удалось использовать ваше голосовое или аудио, поэтому до завтра я их не принимаю. /song без них работает.",
        other="Сегодня мне уже {n} раз не удалось использовать ваше голосовое или аудио, поэтому до завтра я их не принимаю. /song без них работает.",
    ),
    # --- i18n: plurals, limits, names, group language, short /help ---
    "help_limit_chars": Plural(
        "max_chars",
        one="• стиль и текст вместе: до {max_chars} символа",
        other="• стиль и текст вместе: до {max_chars} символов",
    ),
    "help_limit_parallel": Plural(
        "per_user",
        one="• одновременно делается {per_user} ваша песня, остальные ждут своей очереди",
        few="• одновременно делаются {per_user} ваши песни, остальные ждут своей очереди",
        other="• одновременно делаются {per_user} ваших песен, остальные ждут своей очереди",
    ),
    "help_limit_timeout": "• если песня не готова через {waited}, я перестаю её ждать",
    "stars_buy_no_free": "Песня стоит {price} ⭐. Выберите пакет:",
    "help_stars_no_free": "⭐ Песня стоит {price} ⭐: /buy — купить пакет песен, /balance — сколько осталось.",
    "board_finished_none": "⚠️ <b>Готово</b>: на этот раз ни одной песни не получилось (без песни — {failed}).",
    "language_group_menu": (
        "<b>Язык этой группы</b>\n"
        "Сейчас: {current}\n\n"
        "Здесь я отвечаю всем на этом языке, какой бы язык ни был у каждого."
    ),
    "language_group_admins_only": (
        "Язык группы могут менять только её администраторы. Чтобы сменить свой язык, отправьте "
        "/language мне в личные сообщения."
    ),
    "status_provider_busy": "⏳ <b>Музыкальный сервис перегружен</b>, пробую снова · {model}",
    "help_main": (
        "<b>Как заказать песню</b> (нажмите на пример, чтобы скопировать)\n"
        "• стиль в первой строке, текст ниже:\n"
        "<code>/song мечтательный синти-поп\n[Verse]\nНеон горит над заливом</code>\n"
        "• без текста, инструментал: <code>/song спокойное эмбиент-пианино</code>\n"
        "• текста ещё нет: <code>/write песня на день рождения сестры</code>\n\n"
        "Под каждой песней: 🔁 ещё раз · 📝 текст · 🎲 вариация. /jobs — ваши песни, "
        "/cancel — отменить, /language — сменить язык."
    ),
    "help_references": (
        "<b>Спой вот так</b>\n"
        "• пришлите голосовое или аудио с подписью <code>/song госпел-хор</code> или ответьте "
        "этой командой на такое сообщение\n"
        "• или ссылку: <code>/song ref: https://example.com/take.mp3 джазовый кавер</code>\n"
        "• начните с <code>voice:</code>, если пели без музыки, с <code>song:</code>, если "
        "музыка звучит фоном, с <code>instrumental:</code>, если на записи только музыка"
    ),
    "help_group_short": (
        "Пишите <code>/song@{bot} &lt;стиль&gt;</code>, а текст — в строках ниже, или ответьте "
        "этой командой на сообщение с текстом. Всё остальное — в /help у меня в личных "
        "сообщениях."
    ),
    "button_help_main": "⬅️ Назад",
    "button_help_ways": "✍️ Другие способы",
    "button_help_models": "🎛 Модели",
    "button_help_refs": "🎤 Голос и образцы",
    "button_help_groups": "👥 Группы",
    "button_help_limits": "📏 Ограничения",
    "model_member": "Модель этого чата: {current}. Менять её могут только администраторы.",
    # --- miniapp: the Mini App page and its API (bot/webapp/) ---
    "app_tab_library": "Мои песни",
    "app_tab_group": "Песни этой группы",
    "app_tab_make": "Новая песня",
    "app_search": "Поиск по названию или словам песни",
    "app_empty": "Здесь пока нет песен. Создайте первую на вкладке «Новая песня».",
    "app_nothing_found": "По такому запросу ничего не нашлось.",
    "app_more": "Показать ещё",
    "app_lyrics": "Текст",
    "app_no_lyrics": "Это инструментал: слов нет.",
    "app_rename": "Переименовать",
    "app_rename_prompt": "Новое название песни:",
    "app_delete": "Удалить",
    "app_delete_confirm": "Удалить «{title}» из библиотеки? Ссылки, которыми вы поделились, тоже перестанут работать.",
    "app_share": "Поделиться",
    "app_share_link": "Скопировать ссылку",
    "app_link_copied": "Ссылка скопирована",
    "app_plays": "Прослушиваний по ссылке: {n}",
    "app_by": "заказ от {name}",
    "app_style": "Стиль",
    "app_style_placeholder": "например, мечтательный синти-поп с женским вокалом",
    "app_presets": "поп-баллада, женский вокал|бодрый инди-рок|акустический фолк, тёплый мужской голос|лоу-фай хип-хоп|синтвейв в духе 80-х|госпел-хор",
    "app_lyrics_label": "Текст",
    "app_lyrics_placeholder": "[Verse]\nВаши строки…\n[Chorus]\n…",
    "app_lyrics_counter": "Знаков: {used} / {max}",
    "app_lyrics_over": "Больше лимита этой модели на {over}",
    "app_model": "Модель",
    "app_instrumental": "Инструментал, без слов",
    "app_reference": "Спой вот так (необязательно)",
    "app_record": "Записать",
    "app_stop": "Стоп",
    "app_pick_file": "Выбрать файл",
    "app_recording_ready": "Запись готова: {seconds} с",
    "app_remove_recording": "Убрать",
    "app_purpose_voice": "это я пою",
    "app_purpose_song": "целая песня",
    "app_purpose_instrumental": "минусовка",
    "app_submit": "Создать песню",
    "app_sending": "Отправляю…",
    "app_made": "Готово! Песня уже в работе — следите за ней в чате с ботом.",
    "app_failed_load": "Не удалось загрузить песни. Обновите страницу или откройте приложение заново.",
    "app_mic_denied": "Нет доступа к микрофону. Можно выбрать файл.",
    "app_title_empty": "Название не может быть пустым.",
    "app_bad_form": "С формой что-то не так. Откройте приложение заново и попробуйте ещё раз.",
    "app_recording_too_big": "Запись больше 20 МБ. Запишите дубль покороче, на пару минут.",
    "app_not_allowed": "К сожалению, вы не можете заказывать песни у этого бота.",
    "app_already_sent": "Эта песня уже отправлена. Загляните в чат с ботом.",
    "app_see_chat": "Загляните в чат с ботом: я ответил вам там.",
    "app_need_style": "Сначала опишите стиль: жанр, настроение или голос.",
    "app_need_lyrics": "Добавьте текст или отметьте «Инструментал», если песня без слов.",
    "app_request_caption": "🎛 Из приложения: {style}",
    "app_request_text": "🎛 Из приложения: {style}",
    "app_start_chat_first": "Сначала откройте чат с ботом и нажмите «Старт»: песни приходят туда.",
    "app_try_again": "Telegram сейчас не ответил. Попробуйте ещё раз чуть позже.",
    "app_menu_button": "Песни",
    "app_open_button": "📚 Открыть приложение",
    # --- miniapp: browser fixes, 📚 buttons and /help ---
    "app_model_auto": "Автоматически: лучшая под ваш запрос",
    "app_purpose_label": "Что на записи",
    "help_app": "📚 <b>Приложение</b>: ваши песни с плеером, поиском и кнопкой «Поделиться», а ещё форма для новой песни — можно приложить свою запись. Откройте его кнопкой меню рядом с полем ввода или кнопкой 📚 под песней и в /songs.",
    "app_recording_short": "Запись слишком короткая для этой модели: нужно больше {min} с.",
}
