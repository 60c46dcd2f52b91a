"""Spanish strings: every key of `en.py`, with the same `{fields}` and HTML tags.

Why complete rather than fall back: a Spanish speaker should never meet an English sentence in
the middle of a conversation; `tests/test_catalogue.py` checks that the keys and fields match.
"""

from typing import Final

from bot.i18n.plural import Plural

ES: Final[dict[str, str | Plural]] = {
    # --- /song parser and audio tools ---
    "usage_empty": (
        "Escribe el estilo en la primera línea y la letra debajo:\n"
        "<code>/song synth-pop soñador\n[Verse]\nLuces de neón bajo la lluvia…</code>\n\n"
        "Otras formas:\n"
        "• <code>/song piano lo-fi</code>: un instrumental, sin letra\n"
        "• <code>/song canción marinera | Yo-ho, zarpamos al alba</code>: todo en una línea\n"
        "• responde con <code>/song punk rock</code> a un mensaje que tenga la letra\n\n"
        "Las opciones van antes del estilo: <code>model:MiniMax-2.0</code>, "
        "<code>ref: https://…/take.mp3</code>, y <code>voice:</code>, "
        "<code>instrumental:</code> o <code>song:</code> para decir qué contiene la referencia."
    ),
    "usage_no_style": (
        "Tengo la letra pero no el estilo. Pon el estilo en la misma línea que el comando y la "
        "letra debajo:\n<code>/song synth-pop soñador\n[Verse]\nLuces de neón…</code>"
    ),
    "usage_model_missing": (
        "Escribe el modelo justo después de <code>model:</code>, sin espacio, por ejemplo "
        "<code>model:MiniMax-2.0</code>."
    ),
    "usage_too_long": (
        "Es demasiado largo: el estilo y la letra juntos pueden tener como máximo "
        "10.000 caracteres."
    ),
    "error_ref_url": (
        "La referencia después de <code>ref:</code> debe ser un enlace <code>http://</code> o "
        "<code>https://</code> a un archivo de audio, por ejemplo "
        "<code>ref: https://example.com/take.mp3</code>."
    ),
    "error_ffmpeg_missing": (
        "El procesamiento de audio no está configurado en este servidor, así que ahora no puedo "
        "trabajar con audio. Avisa al operador del bot, por favor."
    ),
    "error_media": (
        "No pude procesar ese audio. Si lo enviaste tú, prueba con otro archivo "
        "(MP3, WAV, OGG o M4A)."
    ),
    # --- status messages, outcomes, buttons, commands ---
    "status_queued": "⏳ <b>En cola</b> · {model}",
    "status_waiting": "⏳ <b>En cola</b> · puesto {position} · {model}",
    "status_preparing": "🎙 <b>Preparando tu referencia</b> · {model}",
    "status_generating": "🎵 <b>Generando</b> · {model} · {elapsed}",
    "status_generating_eta": (
        "🎵 <b>Generando</b> · {model} · {elapsed} (suele tardar unos {expected})"
    ),
    "status_sending": "📤 <b>Enviando tu canción</b> · {model}",
    "status_done": "✅ <b>Listo</b> · {model} · {elapsed}",
    "status_cancelled": "🚫 <b>Cancelada</b>",
    "status_failed": "⚠️ {reason_html}",
    "button_cancel": "❌ Cancelar",
    "button_again": "🔁 Otra vez",
    "button_lyrics": "📝 Letra",
    "button_vary": "🎲 Variación",
    "song_caption": "🎵 <i>{style}</i>\n{model}",
    "song_caption_group": "🎵 <i>{style}</i>\npara {mention} · {model}",
    "song_performer": "songbot · {model}",
    "song_too_big_link": (
        "🎵 Tu canción pesa {size_mb} MB, más que el límite de subida de Telegram (50 MB). "
        "{link} (el enlace funciona unas 24 horas)."
    ),
    "song_link_label": "Descárgala aquí",
    "error_generic": "Algo salió mal con esta petición. Inténtalo de nuevo.",
    "error_bad_input": "No puedo hacer una canción con esa petición.",
    "error_reference": "No puedo usar eso como referencia.",
    "error_not_allowed": "Lo siento, eso no se puede hacer aquí.",
    "error_internal": (
        "Algo se rompió de mi lado (no es culpa tuya). Inténtalo de nuevo en un minuto."
    ),
    "error_unknown_model": "No conozco el modelo <code>{model}</code>. Disponibles: {known}.",
    "error_style_too_short": Plural(
        "limit",
        one="Describe el estilo un poco más (al menos {limit} carácter para {model}), por ejemplo <code>/song synth-pop soñador con voz femenina</code>.",
        other="Describe el estilo un poco más (al menos {limit} caracteres para {model}), por ejemplo <code>/song synth-pop soñador con voz femenina</code>.",
    ),
    "error_model_no_lyrics": (
        "{model} solo hace instrumentales y no canta letras. Quita la letra o elige otro "
        "modelo con <code>model:</code>."
    ),
    "error_model_needs_lyrics": (
        "{model} necesita letra: ponla en las líneas después de <code>/song &lt;estilo&gt;</code>."
    ),
    "error_model_needs_reference": (
        "{model} necesita una referencia: envía el comando como pie de una nota de voz o un "
        "audio, responde con él a uno, o añade <code>ref: https://…</code>."
    ),
    "error_model_no_reference": (
        "{model} no puede usar una pista de referencia. Elige un modelo de referencia con "
        "<code>model:MiniMax-01</code> o <code>model:MiniMax-Cover</code>."
    ),
    "error_too_many_waiting": Plural(
        "limit",
        one="Ya tienes {limit} canción esperando turno. Espera a que empiece o cancélala con /cancel.",
        other="Ya tienes {limit} canciones esperando turno. Espera a que empiece una o cancela alguna con /cancel.",
    ),
    "error_daily_limit": Plural(
        "limit",
        one="Has llegado al límite de hoy: {limit} canción. Se reinicia a medianoche (UTC).",
        other="Has llegado al límite de hoy: {limit} canciones. Se reinicia a medianoche (UTC).",
    ),
    "error_chat_not_allowed": "Lo siento, este bot no está disponible en este chat.",
    "error_user_banned": "Lo siento, no puedes pedir canciones a este bot.",
    "error_admins_only_requests": "En este chat solo los administradores pueden pedir canciones.",
    "error_reference_type": (
        "Como referencia solo me sirve una nota de voz, un archivo de audio o el sonido de un "
        "vídeo, y lo que enviaste es de tipo «{kind}»."
    ),
    "error_reference_too_big": (
        "Ese archivo pesa {size_mb} MB; puedo descargar como máximo {limit_mb} MB. Envía un "
        "fragmento más corto."
    ),
    "error_reference_too_short": "Tu {kind} dura {seconds}; envía más de {minimum} de canto.",
    "error_reference_too_long": (
        "Tu {kind} dura {seconds} y el modelo acepta como máximo {maximum}. Recorta la "
        "grabación, por favor."
    ),
    "diagnosis_no_audio": "dijo que la canción estaba lista pero no envió ningún archivo de audio",
    "diagnosis_failed_no_reason": "informó de un fallo sin decir por qué",
    "error_timeout": (
        "La canción tardó demasiado ({waited}) y dejé de esperar. No se te cobra nada por un "
        "intento fallido; inténtalo de nuevo."
    ),
    "error_interrupted": (
        "Me reiniciaron mientras se iniciaba tu canción y no sé si llegó a empezar. Para no "
        "iniciarla dos veces, envía la petición de nuevo, por favor."
    ),
    "error_generation_failed": (
        "El servicio de música no pudo hacer esta canción. Inténtalo de nuevo, quizá con otras "
        "palabras."
    ),
    "error_generation_failed_reason": "El servicio de música no pudo hacer esta canción: {reason}",
    "error_provider_unavailable": (
        "El servicio de música tiene problemas ahora mismo. Inténtalo de nuevo en unos minutos."
    ),
    "error_undeliverable": "No pude entregar la canción en este chat.",
    "error_telegram_upload": (
        "Tu canción está lista, pero Telegram no aceptó el archivo tras varios intentos. "
        "Inténtalo de nuevo en unos minutos."
    ),
    "start": (
        "👋 ¡Hola! Convierto tus letras en canciones de verdad.\n\n"
        "Envía un estilo en la primera línea y la letra debajo:\n"
        "<code>/song synth-pop soñador\n[Verse]\nLuces de neón sobre la bahía\n[Chorus]\n"
        "Quédate, quédate</code>\n\n"
        "/help muestra todas las formas de pedirla."
    ),
    "cmd_start": "Bienvenida y un primer ejemplo",
    "cmd_help": "Todas las formas de pedir una canción",
    "cmd_song": "Crear una canción: /song <estilo> + letra",
    "cmd_model": "Elegir el modelo de este chat",
    "cmd_jobs": "Tus canciones pendientes y recientes",
    "cmd_cancel": "Cancelar tu canción pendiente",
    "cmd_language": "Elegir el idioma del bot",
    "cancelled": (
        "🚫 Cancelada: <i>{song}</i>. Ya se había empezado a crear, así que cuenta para tus "
        "canciones de hoy."
    ),
    "cancelled_short": "Cancelada",
    "nothing_to_cancel": "No tienes ninguna canción pendiente aquí.",
    "not_your_job": "Esa canción es de otra persona.",
    "too_late_to_cancel": "Demasiado tarde para cancelar: ya se está enviando.",
    # --- AI/ML API client ---
    "error_prompt_missing": (
        "Describe el estilo: {model} necesita una breve descripción de la música."
    ),
    "error_prompt_too_short": Plural(
        "length",
        one="La descripción del estilo tiene {length} carácter; este modelo necesita al menos {limit}.",
        other="La descripción del estilo tiene {length} caracteres; este modelo necesita al menos {limit}.",
    ),
    "error_prompt_too_long": Plural(
        "length",
        one="La descripción del estilo tiene {length} carácter; este modelo acepta como máximo {limit}.",
        other="La descripción del estilo tiene {length} caracteres; este modelo acepta como máximo {limit}.",
    ),
    "error_lyrics_too_short": Plural(
        "length",
        one="La letra tiene {length} carácter; este modelo necesita al menos {limit}.",
        other="La letra tiene {length} caracteres; este modelo necesita al menos {limit}.",
    ),
    "error_lyrics_too_long": Plural(
        "length",
        one="La letra tiene {length} carácter; este modelo acepta como máximo {limit}.",
        other="La letra tiene {length} caracteres; este modelo acepta como máximo {limit}.",
    ),
    "error_instrumental_with_lyrics": (
        "Un instrumental no puede tener letra. Quita la letra o pide una canción con voz."
    ),
    "error_reference_url_invalid": (
        "El enlace de referencia debe ser una dirección completa <code>http://</code> o "
        "<code>https://</code>."
    ),
    "error_reference_base64_invalid": (
        "No pude leer el audio de referencia. Envía un archivo MP3 o WAV."
    ),
    "error_reference_data_too_big": (
        "El audio de referencia pesa {size_mb} MB; este modelo acepta como máximo {limit_mb} MB."
    ),
    "error_reference_both": "Envía la referencia como enlace o como archivo, no de las dos formas.",
    "error_refer_ids_missing": (
        "{model} necesita primero tu pista de referencia. Envía la petición de nuevo con ella."
    ),
    "error_reference_format": "La referencia debe ser un archivo MP3 o WAV.",
    "error_duration_not_supported": "{model} no acepta una duración; quítala.",
    "error_duration_out_of_range": (
        "La duración debe estar entre {minimum} y {maximum} (pediste {seconds})."
    ),
    "error_option_invalid": "La opción <code>{name}</code> no es válida para {model}.",
    "error_provider_key_invalid": (
        "El servicio de música no acepta la clave API de este bot. Avisa al operador del bot, "
        "por favor."
    ),
    "error_provider_no_credits": (
        "El bot se quedó sin créditos de música. Avisa al operador del bot o inténtalo más tarde."
    ),
    "error_provider_invalid_request": (
        "El servicio de música rechazó esta petición. Cambia el estilo o la letra e inténtalo "
        "de nuevo."
    ),
    "error_provider_rate_limited": (
        "El servicio de música está ocupado ahora mismo. Inténtalo de nuevo en un minuto."
    ),
    "error_content_rejected": (
        "El servicio de música rechazó esta petición por sus normas de contenido. Prueba con "
        "otra letra u otro estilo."
    ),
    "error_unknown_generation": (
        "El servicio de música perdió la pista de esta canción. Envía la petición de nuevo."
    ),
    "error_submit_outcome_unknown": (
        "Perdí el contacto con el servicio de música al iniciar tu canción, así que compruebo "
        "si llegó a empezar antes de volver a intentarlo."
    ),
    "error_audio_download": (
        "Tu canción está hecha, pero no pude descargarla. Inténtalo de nuevo."
    ),
    "error_audio_expired": (
        "El enlace a tu canción terminada caducó antes de que pudiera descargarla. Envía la "
        "petición de nuevo."
    ),
    "error_audio_too_big": "Tu canción pesa más de {limit_mb} MB, así que no puedo descargarla.",
    "error_audio_not_audio": (
        "El servicio de música devolvió algo que no es audio. Inténtalo de nuevo."
    ),
    # --- issue #7: commands, menus, buttons, /jobs ---
    "help_forms": (
        "<b>Más formas de pedirla</b> (toca un ejemplo para copiarlo)\n"
        "• todo en una línea: <code>/song canción marinera | Yo-ho, zarpamos al alba</code>\n"
        "• responde <code>/song folk acústico</code> a un mensaje que tenga la letra\n"
        "• el modelo para una canción: <code>/song model:MiniMax-2.6 hip hop lo-fi</code>"
    ),
    "help_models": (
        "<b>Modelos</b> (escribe <code>model:&lt;nombre&gt;</code> en /song o elige uno para "
        "este chat con /model)\n{lines_html}"
    ),
    "help_limits": "<b>Límites</b>",
    "help_daily_limit": Plural(
        "limit",
        one="• {limit} canción por persona al día (se reinicia a medianoche UTC)",
        other="• {limit} canciones por persona al día (se reinicia a medianoche UTC)",
    ),
    "help_stars": Plural(
        "free",
        one="⭐ Cada canción cuesta {price} ⭐ y la primera de cada día es gratis: /buy compra un paquete de canciones, /balance muestra cuántas te quedan.",
        other="⭐ Cada canción cuesta {price} ⭐ y las primeras {free} de cada día son gratis: /buy compra un paquete de canciones, /balance muestra cuántas te quedan.",
    ),
    # issue #16.9: which model takes voice notes, and music-01's retirement
    "model_moved": "ya no está disponible: ahora lo hace {model}",
    "help_voice_model": "🎤 Las notas de voz y los archivos de audio los canta <b>{model}</b>.",
    "help_voice_model_moved": "🎤 {old} ya no está disponible, así que las notas de voz y los archivos de audio ahora van a <b>{model}</b>: hace una nueva versión de tu grabación (de 6 s a 6 min).",
    "error_model_unavailable": "{model} ya no está disponible en el servicio de música. Elige otro modelo con /model.",
    "help_groups": (
        "<b>En grupos</b>\n"
        "Escribe <code>/song@{bot} &lt;estilo&gt;</code> con la letra debajo, o responde con él "
        "a un mensaje que tenga la letra: solo veo los comandos y las respuestas dirigidos a mí. "
        "Los administradores eligen el /model y el /language del grupo."
    ),
    "model_line": "{mark}<b>{title}</b>: {facts}",
    "model_lyrics_required": Plural(
        "limit",
        one="necesita letra (hasta {limit} carácter)",
        other="necesita letra (hasta {limit} caracteres)",
    ),
    "model_lyrics_optional": Plural(
        "limit",
        one="letra opcional (hasta {limit} carácter)",
        other="letra opcional (hasta {limit} caracteres)",
    ),
    "model_lyrics_none": "sin letra",
    "model_instrumental": "puede hacer instrumentales",
    "model_reference_required": "necesita una referencia: {kind}",
    "model_reference_optional": "acepta una referencia: {kind}",
    "model_ref_upload": "nota de voz o archivo de audio",
    "model_ref_url": "enlace a un audio",
    "model_ref_any": "enlace a un audio o archivo",
    "model_length_seconds": "hasta {seconds}",
    "model_menu": (
        "<b>Modelo predeterminado de este chat</b>\n"
        "Ahora: {current}\n\n"
        "{lines_html}\n\n"
        "Un <code>model:</code> en /song siempre manda para esa canción."
    ),
    "model_now": "<b>{title}</b>",
    "model_now_auto": "automático: según lo que envíes (letra, instrumental, referencia)",
    "button_model_default": "Automático (según la petición)",
    "answer_model_set": "Modelo predeterminado: {model}",
    "answer_model_cleared": "Vuelve la elección automática del modelo",
    "answer_admins_only": "Solo los administradores de este chat pueden cambiar eso.",
    "language_menu": (
        "<b>Idioma</b>\n"
        "Ahora: {current}\n\n"
        "Uso el idioma de tu Telegram salvo que elijas otro aquí."
    ),
    "language_auto": "automático ({language})",
    "button_language_auto": "🌐 Automático (el de Telegram)",
    "answer_language_set": "Idioma: {language}",
    "jobs_title": "<b>Tus canciones</b>",
    "jobs_line": "{n}. {icon} <b>{title}</b>\n{state} · {model} · {when}",
    "jobs_empty": (
        "Aún no tienes canciones aquí. Prueba:\n"
        "<code>/song synth-pop soñador | Luces de neón sobre la bahía</code>"
    ),
    "jobs_hint": "Toca ▶️ para recibir una canción otra vez, o ❌ para cancelar una en camino.",
    "state_received": "en cola",
    "state_preparing": "preparando la referencia",
    "state_submitting": "generando",
    "state_pending": "generando",
    "state_fetching": "enviando",
    "state_delivering": "enviando",
    "state_delivered": "entregada",
    "state_failed": "fallida",
    "state_timed_out": "tardó demasiado",
    "state_cancelled": "cancelada",
    "state_interrupted": "interrumpida",
    "ago_now": "ahora mismo",
    "button_resend": "▶️ {n}. {title}",
    "button_cancel_job": "❌ {n}. {title}",
    "answer_resend": "Aquí la tienes otra vez.",
    "answer_no_file": "Esa canción no se puede reenviar: nunca llegó como archivo.",
    "answer_not_found": "Ya no encuentro esa canción.",
    "resend_failed": "Telegram ya no tiene ese archivo, así que no puedo reenviarlo.",
    "again_started": "🔁 <b>Otra vez</b>: <i>{style}</i> · {model}",
    "vary_model": "🎲 <b>Variación</b>: la misma letra, ahora con {model} en vez de {previous}.",
    "vary_style": (
        "🎲 <b>Variación</b>: el mismo modelo ({model}) con un estilo nuevo: <i>{style}</i>"
    ),
    "vary_retake": "🎲 <b>Variación</b>: otra toma con {model} (sigue tu referencia, no un estilo).",
    "answer_again": "🔁 Una nueva toma va en camino.",
    "answer_vary": "🎲 Una variación va en camino.",
    "answer_busy": "Ya va en camino.",
    "answer_refused": "No puedo iniciarla: mira mi mensaje debajo.",
    "answer_stale": "Este botón ya no funciona. Envía el comando de nuevo.",
    "answer_no_lyrics": "Es un instrumental: no tiene letra.",
    "lyrics_header": "📝 <b>{title}</b>",
    "lyrics_truncated": "(el resto se recortó por los límites de Telegram)",
    "cancelled_not_started": (
        "🚫 Cancelada: <i>{song}</i>. Aún no se había empezado a crear, así que no cuenta para "
        "tus canciones."
    ),
    # --- groups (shared board) and admin commands ---
    "board": (
        "🎵 <b>Canciones en curso</b>: generándose: {working} · en espera: {waiting} · "
        "listas: {done} (de {total})\n"
        "Para: {names}\n"
        "Responderé a cada petición con su canción."
    ),
    "board_finished": "✅ <b>Todo listo</b>: entregadas: {done} · sin canción: {failed}.",
    "error_operators_only": "Lo siento, solo los operadores del bot pueden hacer eso.",
    "error_chat_admins_only": (
        "Lo siento, solo los administradores de este grupo pueden cambiar sus ajustes."
    ),
    "error_group_only": "Ese ajuste es para grupos.",
    "error_cannot_ban_operator": "No se puede bloquear a los operadores.",
    "usage_ban": (
        "Usa <code>/ban &lt;id de usuario&gt;</code> (o responde así a uno de sus mensajes)."
    ),
    "banned": "El usuario <code>{user_id}</code> está bloqueado: se ignoran sus peticiones.",
    "unbanned": "El usuario <code>{user_id}</code> puede volver a pedir canciones.",
    "requests_usage": (
        "Quién puede pedir canciones aquí: <b>{current}</b>. Cámbialo con "
        "<code>/requests everyone</code> o <code>/requests admins</code>."
    ),
    "requests_set": "A partir de ahora, aquí pueden pedir canciones: <b>{who}</b>.",
    "stats": (
        "<b>Estadísticas de songbot</b>\n"
        "Tareas por estado: {states}\n"
        "Hoy — canciones: {today}, créditos: {credits_today}\n"
        "En total — canciones: {total}, créditos: {credits_total} (devueltos: {refunded})\n\n"
        "<b>Usuarios más activos</b>\n{top}\n\n"
        "<b>Tiempo medio de generación</b>\n{models}"
    ),
    "stats_top_line": "• {name} (<code>{user_id}</code>): {count}",
    "stats_model_line": "• <code>{model}</code>: {avg}",
    # --- references ---
    "ref_kind_voice": "nota de voz",
    "ref_kind_audio": "archivo de audio",
    "ref_kind_document": "archivo",
    "ref_kind_file": "archivo",
    "ref_kind_video": "vídeo",
    "ref_kind_video_note": "videomensaje",
    "ref_kind_photo": "foto",
    "ref_kind_sticker": "sticker",
    "ref_kind_image_file": "archivo de imagen",
    "ref_kind_typed_file": "archivo {type}",
    "reference_spoken_notice": (
        "🎤 Aviso: el servicio de música se guía por el <b>canto</b>, así que una nota de voz "
        "hablada suele dar resultados raros. Lo intentaré igualmente. Si la cantaste, empieza el "
        "comando con <code>voice:</code> (o <code>song:</code> si suena música detrás) y no te "
        "lo volveré a decir."
    ),
    "error_reference_unavailable": (
        "Telegram ya no me da acceso a tu referencia ({kind}). Envíala de nuevo, por favor."
    ),
    "error_reference_no_audio": (
        "Tu referencia ({kind}) no tiene sonido, así que no hay nada que imitar. Envía una con "
        "audio."
    ),
    "error_model_reference_file_only": (
        "{model} necesita la referencia como nota de voz o archivo de audio enviado aquí, no como "
        "enlace. Para un enlace, usa <code>model:MiniMax-Cover</code> o <code>model:MiniMax-Legacy</code>."
    ),
    "error_model_reference_link_only": (
        "{model} solo acepta la referencia como enlace (<code>ref: https://…</code>). Para una "
        "nota de voz o un archivo de audio, usa <code>model:MiniMax-01</code> o <code>model:MiniMax-Cover</code>."
    ),
    "error_reference_lyrics_too_long": Plural(
        "limit",
        one="Con una referencia, {model} canta como máximo {limit} carácter de letra; la tuya tiene {length}. Acórtala o envía la canción sin referencia (otros modelos aceptan hasta 3000).",
        other="Con una referencia, {model} canta como máximo {limit} caracteres de letra; la tuya tiene {length}. Acórtala o envía la canción sin referencia (otros modelos aceptan hasta 3000).",
    ),
    # --- /write (issue #18) ---
    "cmd_write": "Letra a partir de tu idea: /write <idea>",
    "button_write_make": "🎵 Crear esta canción",
    "button_write_redo": "🔄 Reescribir",
    "button_write_edit": "✏️ Editar",
    "usage_write": (
        "Dime de qué trata la canción, p. ej. <code>/write una canción de cumpleaños para mi "
        "hermana Ana, que ama los gatos</code>, o responde <code>/write</code> a un mensaje con "
        "la idea."
    ),
    "error_write_idea_too_long": Plural(
        "length",
        one="Esa idea tiene {length} carácter; con {limit} basta. Dilo en menos palabras.",
        other="Esa idea tiene {length} caracteres; con {limit} basta. Dilo en menos palabras.",
    ),
    "write_working": "✍️ Escribiendo la letra…",
    "write_preview": Plural(
        "limit",
        one="📝 <b>{title}</b>\nEstilo: <i>{style}</i>\nPara {model} · {length} de {limit} carácter\n\n{lyrics}",
        other="📝 <b>{title}</b>\nEstilo: <i>{style}</i>\nPara {model} · {length} de {limit} caracteres\n\n{lyrics}",
    ),
    "write_preview_made": "🎵 Convertida en canción.",
    "write_edit_hint": (
        "✏️ Para cambiar la letra, responde a la de arriba con <code>{command} {style}</code> y "
        "escribe tu versión en las líneas de debajo. Si respondes solo con "
        "<code>{command} {style}</code>, la canto tal cual."
    ),
    "error_lyrics_daily_limit": Plural(
        "limit",
        one="Hoy ya escribiste {limit} borrador, el límite diario. Se reinicia a medianoche UTC.",
        other="Hoy ya escribiste {limit} borradores, el límite diario. Se reinicia a medianoche UTC.",
    ),
    "error_lyrics_refused": (
        "El modelo de letras se negó a escribir sobre esa idea. Prueba a decirlo de otra forma."
    ),
    "error_lyrics_empty": "El modelo de letras no respondió nada. Inténtalo de nuevo en un momento.",
    "error_lyrics_unusable": (
        "La respuesta del modelo de letras no sirvió, ni en un segundo intento. Inténtalo de "
        "nuevo o reformula la idea."
    ),
    "answer_write_not_yours": "Solo quien lo pidió (o un admin) puede usar estos botones.",
    "answer_write_making": "🎵 En camino.",
    "answer_write_redo": "🔄 Escribiendo una nueva versión…",
    "answer_write_edit": "✏️ Mira mi mensaje de abajo.",
    "answer_write_made": "Esta letra ya es una canción: pulsa 🔁 debajo de ella.",
    "help_write": (
        "<b>¿Aún sin letra?</b>\n"
        "<code>/write una canción de cumpleaños para mi hermana que ama los gatos</code>: "
        "escribo un título, un estilo y la letra para que los veas primero. No se crea nada "
        "hasta que pulses 🎵 Crear esta canción; 🔄 escribe otra versión, ✏️ explica cómo "
        "cambiar la letra."
    ),
    "help_write_limit": Plural(
        "limit",
        one="• {limit} borrador de letra por persona al día",
        other="• {limit} borradores de letra por persona al día",
    ),
    # --- Telegram Stars (handlers/stars.py, bot/intake/stars.py) ---
    "stars_payment_required": "Una canción cuesta {price} ⭐ y ya usaste las canciones gratis de hoy. Compra un paquete de canciones con Telegram Stars:",
    "stars_pack_button": Plural(
        "songs", one="{songs} canción por {stars} ⭐", other="{songs} canciones por {stars} ⭐"
    ),
    "stars_invoice_title": Plural("songs", one="{songs} canción", other="{songs} canciones"),
    "stars_invoice_description": Plural(
        "songs",
        one="Crédito para {songs} canción. Si la canción falla, se devuelve el crédito.",
        other="Créditos para {songs} canciones. Si una canción falla, se devuelve su crédito.",
    ),
    "stars_invoice_label": Plural("songs", one="{songs} canción", other="{songs} canciones"),
    "stars_checkout_off": "Este bot ya no vende canciones.",
    "stars_checkout_unknown": "Esta factura ya no es válida. Envía /buy para obtener una nueva.",
    "stars_checkout_price": "El precio ha cambiado (una canción cuesta ahora {price} ⭐). Envía /buy para obtener una factura nueva.",
    "stars_off": "Aquí las canciones son gratis: no hay nada que comprar.",
    "stars_buy": Plural(
        "free",
        one="Una canción cuesta {price} ⭐; la primera de cada día (UTC) es gratis. Elige un paquete:",
        other="Una canción cuesta {price} ⭐; las primeras {free} de cada día (UTC) son gratis. Elige un paquete:",
    ),
    "stars_balance_unlimited": "Aquí tus canciones son gratis: no necesitas créditos.",
    "stars_balance": Plural(
        "left",
        one="Te queda <b>{left}</b> canción\nGratis hoy: {free}\nCréditos: {credits} (comprados: {bought}, usados: {used}, en curso: {held})",
        other="Te quedan <b>{left}</b> canciones\nGratis hoy: {free}\nCréditos: {credits} (comprados: {bought}, usados: {used}, en curso: {held})",
    ),
    "stars_pack_gone": "Este paquete ya no se vende. Envía /buy para ver los paquetes de hoy.",
    "stars_paid": Plural(
        "left",
        one="¡Gracias! Pago recibido. Ya puedes hacer <b>{left}</b> canción (créditos: {credits}).",
        other="¡Gracias! Pago recibido. Ya puedes hacer <b>{left}</b> canciones (créditos: {credits}).",
    ),
    "stats_stars": "\n\n<b>Telegram Stars</b>\nRecibidas {received} ⭐, reembolsadas {refunded} ⭐\nCanciones pagadas con créditos: {paid}, gratis: {free}",
    "stars_credit_returned": "Se te ha devuelto el crédito de esta canción.",
    "stars_refund_usage": "Uso: <code>/refund &lt;telegram payment charge id&gt;</code>",
    "stars_refund_unknown": "No hay ningún pago con el charge id {charge_id}.",
    "stars_refund_done": "El pago {charge_id} ya fue reembolsado.",
    "stars_refund_spent": Plural(
        "songs",
        one="No reembolsado: el pago {charge_id} compró {songs} canción, y a su comprador le quedan menos créditos sin usar ({unused}).",
        other="No reembolsado: el pago {charge_id} compró {songs} canciones, y a su comprador le quedan menos créditos sin usar ({unused}).",
    ),
    "stars_refund_failed": "Telegram rechazó reembolsar {charge_id}: {reason}. Los créditos siguen siendo del comprador.",
    "stars_refunded": "Reembolsadas {stars} ⭐; créditos retirados: {songs}.",
    "cmd_buy": "Comprar canciones con Telegram Stars",
    "cmd_balance": "Cuántas canciones puedes hacer todavía",
    # Kept songs (#16.6) and the failed-reference limit (#17.4).
    "button_send_again": "📤 Enviar de nuevo",
    "upload_kept_hint": "Guardé la canción: toca 📤 Enviar de nuevo (aquí o en /jobs) cuando Telegram vuelva; no se crea ni se cobra nada otra vez.",
    "answer_sending_again": "Enviándola de nuevo…",
    "answer_unsent_gone": "Esa canción ya no está guardada, así que no se puede reenviar.",
    "resend_upload_failed": "Telegram volvió a rechazar la subida. La canción sigue guardada: prueba 📤 Enviar de nuevo en unos minutos.",
    # --- identity: channels, anonymous admins and redaction (#24.2) ---
    "error_chat_sender_paid": "En este bot cada persona paga sus canciones, así que un canal o un administrador anónimo no puede pedir una. Pídela en tu propio nombre: publica como tú y no como el canal, o desactiva «Permanecer anónimo» en tus permisos de administrador, o escríbeme por privado.",
    "error_chat_sender_limit": "Por hoy, los canales y los administradores anónimos ya no pueden pedir más canciones. Pídela en tu propio nombre: publica como tú y no como el canal, o desactiva «Permanecer anónimo» en tus permisos de administrador, o escríbeme por privado.",
    # --- money: refunds, banned buyers, payments that buy no pack (#24.4, #24.13, #24.15) ---
    "stars_refund_pending": "Telegram no confirmó el reembolso de {charge_id} y su lista de transacciones aún no lo muestra. Los créditos siguen retirados; <code>songbot stars reconcile --fix</code> completará el reembolso si Telegram no llegó a hacerlo.",
    "stars_checkout_banned": "Lo siento, no puedes comprar canciones en este bot.",
    "stars_payment_unmatched": "Este pago no corresponde a ningún paquete de canciones a la venta, así que no se añadieron créditos. El operador del bot puede verlo y devolverte las Stars.",
    # --- library: the library, sharing and song titles (#26.1, #26.2, #25.12) ---
    "cmd_songs": "Tus canciones: escuchar, buscar, compartir",
    "button_library": "📚 Mis canciones",
    "button_prev": "◀️",
    "button_next": "▶️",
    "library_title": "📚 <b>Tus canciones</b>",
    "library_title_group": "📚 <b>Canciones de este chat</b>",
    "library_search_title": "🔎 <b>Canciones con «{words}»</b>",
    "library_line": "{n}. <b>{title}</b> · {duration} · {date}",
    "library_page": "Página {page}",
    "library_hint": "Toca una canción para escucharla, compartirla, cambiarle el nombre o borrarla. Para buscar: <code>/songs palabras del título o la letra</code>",
    "library_empty": "Aquí todavía no hay canciones. Cada canción que te envíe se guarda aquí hasta que la borres. Empieza con /song.",
    "library_no_match": "Ninguna canción tiene «{words}» en el título ni en la letra.",
    "song_card": "🎵 <b>{title}</b>\n<i>{style}</i>\n{model} · {duration} · {date}",
    "song_card_requester": "La pidió {mention}",
    "song_card_link": "🔗 Compartida: {link}\nReproducciones desde el enlace: {plays}",
    "button_song_send": "▶️ Enviar",
    "button_song_rename": "✏️ Renombrar",
    "button_song_delete": "🗑 Borrar",
    "button_song_share": "↗️ Compartir",
    "button_song_link": "🔗 Enlace",
    "button_song_unshare": "⛔ Dejar de compartir",
    "button_song_delete_yes": "🗑 Sí, borrarla",
    "button_song_delete_no": "Conservarla",
    "song_delete_confirm": "¿Borrar «{title}» de la biblioteca? Su enlace y su resultado en línea también dejarán de funcionar. El mensaje con la canción en este chat se queda.",
    "song_deleted": "🗑 Se ha borrado «{title}» de la biblioteca.",
    "song_rename_prompt": "✏️ Envíame el nuevo nombre para «{title}».",
    "song_renamed": "✏️ Nuevo nombre: «{title}».",
    "song_rename_empty": "El nombre necesita al menos una letra o un número. Envíame otro.",
    "answer_song_gone": "Esta canción ya no está en la biblioteca.",
    "answer_song_not_yours": "Solo quien pidió esta canción (o un administrador del chat) puede hacerlo.",
    "answer_song_sending": "Enviándola…",
    "answer_rename_private": "Envíame el nuevo nombre por chat privado.",
    "answer_rename_start": "Primero abre un chat privado conmigo (toca mi nombre y luego Iniciar) y vuelve a pulsar ✏️.",
    "answer_link_stopped": "Ya no se comparte: el enlace anterior dejó de funcionar.",
    "answer_no_song_yet": "La canción aún no está en la biblioteca; inténtalo dentro de un momento.",
    "song_link_made": "🔗 Quien abra este enlace recibirá «{title}» de mi parte, gratis:\n{link}\nPara dejar de compartirla, ábrela en /songs y pulsa ⛔.",
    "shared_song_caption": "🎵 <b>{title}</b>\nLa creó {name} con @{bot}.\n¿Quieres la tuya? Envíame <code>/song</code> y un estilo, por ejemplo: <code>/song pop acústico cálido</code>",
    "shared_link_dead": "Este enlace ya no funciona: la canción se borró o ya no se comparte. Crea la tuya con /song.",
    "inline_caption": "🎵 <b>{title}</b>\nvía @{bot}",
    "inline_make_button": "🎵 Crear una canción nueva",
    "help_inline": "↗️ Comparte una canción en cualquier chat: escribe <code>@{bot}</code> y una palabra del título.",
    # --- flows: the newcomer's first minute, the guided flow, kept requests (#25, #26.3) ---
    "cmd_new": "Crear una canción paso a paso",
    "flow_what_text": "🎵 ¿Hago una canción con esto?\n\n<i>{text}</i>",
    "flow_what_new": "🎵 Hagamos una canción. ¿Qué tienes?",
    "button_flow_idea_text": "✍️ Escribir la letra con esta idea",
    "button_flow_inst_text": "🎹 Instrumental con este ambiente",
    "button_flow_lyrics_text": "📝 Esta es mi letra",
    "button_flow_idea": "💡 Una idea: escríbeme la letra",
    "button_flow_lyrics": "📝 Mi propia letra",
    "button_flow_inst": "🎹 Un instrumental",
    "flow_ask_idea": "Cuéntame la idea en un mensaje: de quién o de qué trata, el ambiente, algún detalle.",
    "flow_ask_lyrics": "Envíame la letra en un mensaje. Etiquetas como [Verse] y [Chorus] ayudan.",
    "flow_ask_mood": "Describe el ambiente o la escena en un mensaje.",
    "flow_ask_style": "¿Qué estilo? Elige uno o escribe el tuyo, por ejemplo <i>synth-pop soñador</i>.",
    "flow_reference_intro": "🎤 Recibí tu grabación: puedo cantarla así.\n¿Qué estilo? Elige uno o escribe el tuyo.",
    "flow_preset_1": "pop alegre",
    "flow_preset_2": "folk acústico",
    "flow_preset_3": "rock enérgico",
    "flow_preset_4": "hip-hop lo-fi",
    "flow_preset_5": "electrónica bailable",
    "flow_preset_6": "balada de piano",
    "flow_ask_voice": "¿Con qué voz la canto?",
    "flow_voice_again": "Elige una voz con los botones o escribe: femenina, masculina o cualquiera.",
    "button_voice_female": "👩 Femenina",
    "button_voice_male": "👨 Masculina",
    "button_voice_any": "🎲 Cualquiera",
    "flow_voice_female": "voz femenina",
    "flow_voice_male": "voz masculina",
    "flow_ask_ref_lyrics": "¿Qué debe cantar? Envíame la letra en un mensaje o hazla sin palabras.",
    "button_flow_no_words": "🎹 Sin palabras",
    "flow_preview": "🎵 <b>Lista para crear</b>\n{what}\nEstilo: {style}{voice}\n\n<i>{text}</i>",
    "flow_preview_voice": "\nVoz: {voice}",
    "flow_kind_idea": "✍️ Letra escrita a partir de tu idea",
    "flow_kind_lyrics": "📝 Tu letra",
    "flow_kind_instrumental": "🎹 Un instrumental",
    "flow_kind_reference": "🎤 Cantada como tu grabación",
    "flow_no_text": "(sin palabras)",
    "button_flow_make": "🎵 Crearla",
    "button_flow_write": "✍️ Escribir la letra",
    "button_flow_change": "✏️ Cambiar",
    "button_flow_cancel": "❌",
    "flow_cancelled": "Cancelado. Envíame una idea cuando quieras.",
    "flow_handed_to_write": "✍️ Escribiendo la letra: el borrador aparecerá abajo.",
    "flow_made": "🎵 En marcha: la canción llegará como respuesta aquí.",
    "answer_flow_making": "🎵 En marcha.",
    "answer_flow_done": "Esto ya está hecho.",
    "answer_flow_expired": "Esto ha caducado. Envía /new para empezar de nuevo.",
    "answer_flow_not_yours": "Esta petición es de otra persona.",
    "answer_flow_cancelled": "Cancelado.",
    "flow_other": "Con esto no puedo hacer una canción. Envíame una idea con palabras, tu letra o una nota de voz, o mira /help.",
    "flow_unknown_command": "No conozco {command}. En /help está todo lo que sé hacer.",
    "flow_group_offer": "Paso a paso funciona mejor en un chat privado:",
    "button_flow_open": "🎵 Crear una canción paso a paso",
    "song_edit_made": "Este mensaje ya dio su canción; editarlo no cambia nada. Envía un /song nuevo para otra.",
    "ask_lyrics_question": "Aquí no hay letra. ¿Escribo una letra para esta idea o hago un instrumental?\nPara saltarte esta pregunta la próxima vez: <code>{command} instrumental: {style}</code>",
    "button_ask_write": "✍️ Escribir la letra",
    "button_ask_inst": "🎹 Instrumental",
    "kept_paid_making": "🎵 Ahora creo la canción que pediste antes de pagar.",
    "help_instrumental": "Un instrumental sin la pregunta sobre la letra: <code>/song instrumental: lo-fi piano</code>. O envía /new y te guío paso a paso.",
    "answer_remake_confirm": "La nueva canción será tuya y contará como tuya, no de quien pidió esta. Toca de nuevo para seguir.",
    "resend_done": "📤 Enviada: la canción ya está en el chat.",
    "answer_resend_done": "Ya se envió.",
    "button_try_again": "🔁 Intentar de nuevo",
    "error_reference_failures": Plural(
        "n",
        one="Hoy ya fallé {n} vez al usar tus notas de voz o archivos de audio, así que no acepto más hasta mañana. Un /song sin ellos sigue funcionando.",
        other="Hoy ya fallé {n} veces al usar tus notas de voz o archivos de audio, así que no acepto más hasta mañana. Un /song sin ellos sigue funcionando.",
    ),
    # --- i18n: plurals, limits, names, group language, short /help ---
    "help_limit_chars": Plural(
        "max_chars",
        one="• estilo y letra juntos: hasta {max_chars} carácter",
        other="• estilo y letra juntos: hasta {max_chars} caracteres",
    ),
    "help_limit_parallel": Plural(
        "per_user",
        one="• hago {per_user} de tus canciones a la vez; las demás esperan su turno",
        other="• hago {per_user} de tus canciones a la vez; las demás esperan su turno",
    ),
    "help_limit_timeout": "• dejo de esperar una canción después de {waited}",
    "stars_buy_no_free": "Una canción cuesta {price} ⭐. Elige un paquete:",
    "help_stars_no_free": "⭐ Cada canción cuesta {price} ⭐: /buy compra un paquete de canciones, /balance muestra cuántas te quedan.",
    "board_finished_none": "⚠️ <b>Terminado</b>: esta vez no salió ninguna canción (sin canción: {failed}).",
    "language_group_menu": (
        "<b>Idioma de este grupo</b>\n"
        "Ahora: {current}\n\n"
        "Aquí respondo a todos en este idioma, sea cual sea el suyo."
    ),
    "language_group_admins_only": (
        "Solo los administradores de este grupo pueden cambiar su idioma. Para cambiar el tuyo, "
        "envíame /language por privado."
    ),
    "status_provider_busy": "⏳ <b>El servicio de música está saturado</b>, sigo reintentando · {model}",
    "help_main": (
        "<b>Cómo pedir una canción</b> (toca un ejemplo para copiarlo)\n"
        "• el estilo en la primera línea, la letra debajo:\n"
        "<code>/song synth-pop soñador\n[Verse]\nLuces de neón sobre la bahía</code>\n"
        "• sin letra, un instrumental: <code>/song piano ambiental tranquilo</code>\n"
        "• ¿aún sin letra?: <code>/write una canción de cumpleaños para mi hermana</code>\n\n"
        "Debajo de cada canción: 🔁 otra vez · 📝 letra · 🎲 variación. /jobs muestra tus "
        "canciones, /cancel detiene una, /language cambia mi idioma."
    ),
    "help_references": (
        "<b>Cántala así</b>\n"
        "• envía una nota de voz o un audio con el pie <code>/song coro góspel</code>, o "
        "responde con él a uno\n"
        "• o un enlace: <code>/song ref: https://example.com/take.mp3 versión jazz</code>\n"
        "• empieza con <code>voice:</code> si cantaste sin música, <code>song:</code> si suena "
        "música detrás, <code>instrumental:</code> si solo hay música"
    ),
    "help_group_short": (
        "Escribe <code>/song@{bot} &lt;estilo&gt;</code> con la letra en las líneas de debajo, o "
        "responde con él a un mensaje que la tenga. Todo lo demás: /help en un chat privado "
        "conmigo."
    ),
    "button_help_main": "⬅️ Atrás",
    "button_help_ways": "✍️ Más formas",
    "button_help_models": "🎛 Modelos",
    "button_help_refs": "🎤 Voz y referencias",
    "button_help_groups": "👥 Grupos",
    "button_help_limits": "📏 Límites",
    "model_member": "Modelo de este chat: {current}. Solo los administradores pueden cambiarlo.",
    # --- miniapp: the Mini App page and its API (bot/webapp/) ---
    "app_tab_library": "Mis canciones",
    "app_tab_group": "Canciones del grupo",
    "app_tab_make": "Nueva canción",
    "app_search": "Busca por título o letra",
    "app_empty": "Todavía no hay canciones. Crea una en la pestaña Nueva canción.",
    "app_nothing_found": "Ninguna canción coincide con la búsqueda.",
    "app_more": "Ver más",
    "app_lyrics": "Letra",
    "app_no_lyrics": "Es instrumental: no tiene letra.",
    "app_rename": "Renombrar",
    "app_rename_prompt": "Nuevo nombre para la canción:",
    "app_delete": "Eliminar",
    "app_delete_confirm": "¿Eliminar «{title}» de tu biblioteca? Los enlaces que compartiste también dejarán de funcionar.",
    "app_share": "Compartir",
    "app_share_link": "Copiar enlace",
    "app_link_copied": "Enlace copiado",
    "app_plays": "Reproducciones por enlace: {n}",
    "app_by": "la pidió {name}",
    "app_style": "Estilo",
    "app_style_placeholder": "p. ej., synth-pop soñador con voz femenina",
    "app_presets": "balada pop, voz femenina|indie rock animado|folk acústico, voz masculina cálida|hip hop lo-fi|synthwave ochentero|coro góspel",
    "app_lyrics_label": "Letra",
    "app_lyrics_placeholder": "[Verse]\nTus versos aquí…\n[Chorus]\n…",
    "app_lyrics_counter": "Caracteres: {used} / {max}",
    "app_lyrics_over": "Excede el límite de este modelo en {over}",
    "app_model": "Modelo",
    "app_instrumental": "Instrumental, sin letra",
    "app_reference": "Cántala así (opcional)",
    "app_record": "Grabar",
    "app_stop": "Detener",
    "app_pick_file": "Elegir un archivo",
    "app_recording_ready": "Grabación lista: {seconds} s",
    "app_remove_recording": "Quitar",
    "app_purpose_voice": "soy yo cantando",
    "app_purpose_song": "una canción completa",
    "app_purpose_instrumental": "una pista de acompañamiento",
    "app_submit": "Crear la canción",
    "app_sending": "Enviando…",
    "app_made": "¡Listo! Tu canción está en camino: síguela en el chat con el bot.",
    "app_failed_load": "No se pudieron cargar tus canciones. Vuelve a abrir la app para intentarlo de nuevo.",
    "app_mic_denied": "No hay acceso al micrófono. Puedes elegir un archivo.",
    "app_title_empty": "El nombre no puede quedar vacío.",
    "app_bad_form": "Algo falló en el formulario. Vuelve a abrir la app e inténtalo otra vez.",
    "app_recording_too_big": "La grabación pesa más de 20 MB. Graba una toma más corta, de unos minutos.",
    "app_not_allowed": "Lo siento, no puedes pedir canciones a este bot.",
    "app_already_sent": "Esta canción ya se envió. Mira el chat con el bot.",
    "app_see_chat": "Mira el chat con el bot: te he respondido allí.",
    "app_need_style": "Primero describe el estilo: un género, un ambiente o una voz.",
    "app_need_lyrics": "Añade la letra o marca «Instrumental» para una canción sin palabras.",
    "app_request_caption": "🎛 Desde la app: {style}",
    "app_request_text": "🎛 Desde la app: {style}",
    "app_start_chat_first": "Abre primero el chat con el bot y pulsa Iniciar: ahí llegan tus canciones.",
    "app_try_again": "Telegram no respondió ahora mismo. Inténtalo de nuevo en un momento.",
    "app_menu_button": "Canciones",
    "app_open_button": "📚 Abrir la app",
    # --- miniapp: browser fixes, 📚 buttons and /help ---
    "app_model_auto": "Automático: el que mejor encaje con tu petición",
    "app_purpose_label": "Qué hay en la grabación",
    "help_app": "📚 <b>La app</b>: tus canciones con reproductor, búsqueda y opción de compartir, y un formulario para crear una nueva, con tu propia grabación si quieres. Ábrela con el botón de menú junto al campo de mensaje, o con 📚 debajo de una canción o en /songs.",
    "app_recording_short": "La grabación es demasiado corta para este modelo: graba más de {min} s.",
}
