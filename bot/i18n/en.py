"""English strings: the reference catalogue every other language is checked against."""

from typing import Final

from bot.i18n.plural import Plural

EN: Final[dict[str, str | Plural]] = {
    # --- validation (the AI/ML API client checks requests before anything is charged) ---
    # --- /song parser and audio tools (bot/intake/parser.py, bot/delivery/media.py) ---
    "usage_empty": (
        "Tell me the style on the first line and the lyrics below it:\n"
        "<code>/song dreamy synth-pop\n[Verse]\nNeon lights on the rain…</code>\n\n"
        "Other ways:\n"
        "• <code>/song lo-fi piano</code>: an instrumental, no lyrics\n"
        "• <code>/song sea shanty | Yo ho, we sail at dawn</code>: all on one line\n"
        "• reply with <code>/song punk rock</code> to a message that holds the lyrics\n\n"
        "Options go before the style: <code>model:MiniMax-2.0</code>, "
        "<code>ref: https://…/take.mp3</code>, and <code>voice:</code>, "
        "<code>instrumental:</code> or <code>song:</code> for what the reference contains."
    ),
    "usage_no_style": (
        "I have lyrics but no style. Put the style on the same line as the command, "
        "and the lyrics below it:\n<code>/song dreamy synth-pop\n[Verse]\nNeon lights…</code>"
    ),
    "usage_model_missing": (
        "Write the model right after <code>model:</code> with no space, "
        "e.g. <code>model:MiniMax-2.0</code>."
    ),
    "usage_too_long": (
        "That is too long: the style and lyrics together may have at most 10,000 characters."
    ),
    "error_ref_url": (
        "The reference after <code>ref:</code> must be an <code>http://</code> or "
        "<code>https://</code> link to an audio file, e.g. "
        "<code>ref: https://example.com/take.mp3</code>."
    ),
    "error_ffmpeg_missing": (
        "Audio processing is not set up on this server, so I cannot handle audio right now. "
        "Please tell the bot's operator."
    ),
    "error_media": (
        "Sorry, I could not process that audio. If you sent it, try another file "
        "(MP3, WAV, OGG or M4A)."
    ),
    # --- lead: status messages, outcomes, buttons, commands ---
    "status_queued": "⏳ <b>Queued</b> · {model}",
    "status_waiting": "⏳ <b>Waiting for a free slot</b> · position {position} · {model}",
    "status_preparing": "🎙 <b>Preparing your reference</b> · {model}",
    "status_generating": "🎵 <b>Generating</b> · {model} · {elapsed}",
    "status_generating_eta": "🎵 <b>Generating</b> · {model} · {elapsed} (usually about {expected})",
    "status_sending": "📤 <b>Sending your song</b> · {model}",
    "status_done": "✅ <b>Done</b> · {model} · {elapsed}",
    "status_cancelled": "🚫 <b>Cancelled</b>",
    "status_failed": "⚠️ {reason_html}",
    "button_cancel": "❌ Cancel",
    "button_again": "🔁 Again",
    "button_lyrics": "📝 Lyrics",
    "button_vary": "🎲 Variation",
    "song_caption": "🎵 <i>{style}</i>\n{model}",
    "song_caption_group": "🎵 <i>{style}</i>\nfor {mention} · {model}",
    "song_performer": "songbot · {model}",
    "song_too_big_link": "🎵 Your song is {size_mb} MB, over Telegram's 50 MB upload limit. {link} (the link works for about 24 hours).",
    "song_link_label": "Download it here",
    "error_generic": "Something went wrong with this request. Please try again.",
    "error_bad_input": "I can't make a song from that request.",
    "error_reference": "I can't use that as a reference.",
    "error_not_allowed": "Sorry, you can't do that here.",
    "error_internal": "Something broke on my side (not your fault). Please try again in a minute.",
    "error_unknown_model": "I don't know the model <code>{model}</code>. Available: {known}.",
    "error_style_too_short": Plural(
        "limit",
        one="Please describe the style a bit more (at least {limit} character for {model}), e.g. <code>/song dreamy synth-pop with female vocals</code>.",
        other="Please describe the style a bit more (at least {limit} characters for {model}), e.g. <code>/song dreamy synth-pop with female vocals</code>.",
    ),
    "error_model_no_lyrics": "{model} makes instrumentals only and can't sing lyrics. Drop the lyrics or pick another model with <code>model:</code>.",
    "error_model_needs_lyrics": "{model} needs lyrics: put them on the lines after <code>/song &lt;style&gt;</code>.",
    "error_model_needs_reference": "{model} needs a reference: send the command as the caption of a voice note or audio, reply with it to one, or add <code>ref: https://…</code>.",
    "error_model_no_reference": "{model} can't use a reference track. Pick a reference model with <code>model:MiniMax-01</code> or <code>model:MiniMax-Cover</code>.",
    "error_too_many_waiting": Plural(
        "limit",
        one="You already have a song waiting for its turn. Wait for it to start, or /cancel it.",
        other="You already have {limit} songs waiting for their turn. Wait for one to start, or /cancel one.",
    ),
    "error_daily_limit": Plural(
        "limit",
        one="You've reached today's limit of {limit} song. It resets at midnight UTC.",
        other="You've reached today's limit of {limit} songs. It resets at midnight UTC.",
    ),
    "error_chat_not_allowed": "Sorry, this bot isn't available in this chat.",
    "error_user_banned": "Sorry, you can't request songs from this bot.",
    "error_admins_only_requests": "In this chat only admins can request songs.",
    "error_reference_type": "I can only use a voice note, an audio file or a video's sound as a reference, not a {kind}.",
    "error_reference_too_big": "That file is {size_mb} MB; I can download at most {limit_mb} MB. Please send a shorter clip.",
    "error_reference_too_short": "Your {kind} is {seconds} long; please send more than {minimum} of singing.",
    "error_reference_too_long": "Your {kind} is {seconds} long; the model takes at most {maximum}. Please trim it.",
    "diagnosis_no_audio": "it reported the song as finished but sent no audio file",
    "diagnosis_failed_no_reason": "it reported a failure without saying why",
    "error_timeout": "The song took too long ({waited}) and I stopped waiting. You were not charged for a failed generation; please try again.",
    "error_interrupted": "I was restarted while your song was being started, and I can't tell whether it began. To be safe I won't start it twice: please send the request again.",
    "error_generation_failed": "The music service couldn't make this song. Please try again, perhaps with different wording.",
    "error_generation_failed_reason": "The music service couldn't make this song: {reason}",
    "error_provider_unavailable": "The music service is having trouble right now. Please try again in a few minutes.",
    "error_undeliverable": "I couldn't deliver the song to this chat.",
    "error_telegram_upload": "Your song was made, but Telegram kept failing to take the upload. Please try again in a few minutes.",
    "start": "👋 Hi! I turn your lyrics into real songs.\n\nSend a style on the first line and lyrics below it:\n<code>/song dreamy synth-pop\n[Verse]\nNeon lights over the bay\n[Chorus]\nStay, stay, stay</code>\n\n/help shows every way to ask.",
    "cmd_start": "Welcome and a first example",
    "cmd_help": "Every way to ask for a song",
    "cmd_song": "Make a song: /song <style> + lyrics",
    "cmd_model": "Choose this chat's default model",
    "cmd_jobs": "Your pending and recent songs",
    "cmd_cancel": "Cancel your pending song",
    "cmd_language": "Choose the bot's language",
    "cancelled": (
        "🚫 Cancelled: <i>{song}</i>. It had already started, so it still counts toward your "
        "songs for today."
    ),
    "cancelled_short": "Cancelled",
    "nothing_to_cancel": "You have no pending song here.",
    "not_your_job": "That's someone else's song.",
    "too_late_to_cancel": "Too late to cancel: it's already being sent.",
    # --- AI/ML API client (bot/aimlapi): request validation and provider errors ---
    "error_prompt_missing": (
        "Please describe the style: {model} needs a short description of the music."
    ),
    "error_prompt_too_short": Plural(
        "length",
        one="The style description is {length} character; this model needs at least {limit}.",
        other="The style description is {length} characters; this model needs at least {limit}.",
    ),
    "error_prompt_too_long": Plural(
        "length",
        one="The style description is {length} character; this model takes at most {limit}.",
        other="The style description is {length} characters; this model takes at most {limit}.",
    ),
    "error_lyrics_too_short": Plural(
        "length",
        one="The lyrics are {length} character; this model needs at least {limit}.",
        other="The lyrics are {length} characters; this model needs at least {limit}.",
    ),
    "error_lyrics_too_long": Plural(
        "length",
        one="The lyrics are {length} character; this model takes at most {limit}.",
        other="The lyrics are {length} characters; this model takes at most {limit}.",
    ),
    "error_instrumental_with_lyrics": (
        "An instrumental can't have lyrics. Drop the lyrics or ask for a song with vocals."
    ),
    "error_reference_url_invalid": (
        "The reference link must be a full <code>http://</code> or <code>https://</code> address."
    ),
    "error_reference_base64_invalid": (
        "I couldn't read the reference audio. Please send an MP3 or WAV file."
    ),
    "error_reference_data_too_big": (
        "The reference audio is {size_mb} MB; this model takes at most {limit_mb} MB."
    ),
    "error_reference_both": "Send the reference either as a link or as a file, not both.",
    "error_refer_ids_missing": (
        "{model} needs your reference track first. Please send the request again with it."
    ),
    "error_reference_format": "The reference must be an MP3 or WAV file.",
    "error_duration_not_supported": "{model} doesn't take a length; please leave it out.",
    "error_duration_out_of_range": (
        "The length must be between {minimum} and {maximum} (you asked for {seconds})."
    ),
    "error_option_invalid": "The option <code>{name}</code> isn't valid for {model}.",
    "error_provider_key_invalid": (
        "The music service isn't accepting this bot's API key. Please tell the bot's operator."
    ),
    "error_provider_no_credits": (
        "The bot has run out of music credits. Please tell the bot's operator, or try again later."
    ),
    "error_provider_invalid_request": (
        "The music service rejected this request. Please change the style or lyrics and try again."
    ),
    "error_provider_rate_limited": (
        "The music service is busy right now. Please try again in a minute."
    ),
    "error_content_rejected": (
        "The music service refused this request under its content rules. Please try different "
        "lyrics or a different style."
    ),
    "error_unknown_generation": (
        "The music service lost track of this song. Please send the request again."
    ),
    "error_submit_outcome_unknown": (
        "I lost contact with the music service while starting your song, so I'm checking whether "
        "it began before trying again."
    ),
    "error_audio_download": "Your song was made, but I couldn't download it. Please try again.",
    "error_audio_expired": (
        "The link to your finished song expired before I could fetch it. Please send the request "
        "again."
    ),
    "error_audio_too_big": "Your song is larger than {limit_mb} MB, so I can't fetch it.",
    "error_audio_not_audio": (
        "The music service sent back something that isn't audio. Please try again."
    ),
    # --- issue #7: commands, menus, buttons, /jobs (handlers/commands.py, settings.py, callbacks.py)
    "help_forms": (
        "<b>More ways to ask</b> (tap an example to copy it)\n"
        "• all on one line: <code>/song sea shanty | Yo ho, we sail at dawn</code>\n"
        "• reply <code>/song acoustic folk</code> to a message that holds the lyrics\n"
        "• pick the model for one song: <code>/song model:MiniMax-2.6 lo-fi hip hop</code>"
    ),
    "help_models": (
        "<b>Models</b> (write <code>model:&lt;name&gt;</code> in /song, or pick one for this "
        "chat with /model)\n{lines_html}"
    ),
    "help_limits": "<b>Limits</b>",
    "help_daily_limit": Plural(
        "limit",
        one="• {limit} song per person per day (resets at midnight UTC)",
        other="• {limit} songs per person per day (resets at midnight UTC)",
    ),
    "help_stars": Plural(
        "free",
        one="⭐ A song costs {price} ⭐, and the first one each day is free: /buy a pack of songs, /balance shows what you have left.",
        other="⭐ A song costs {price} ⭐, and the first {free} each day are free: /buy a pack of songs, /balance shows what you have left.",
    ),
    # issue #16.9: which model takes voice notes, and music-01's retirement
    "model_moved": "no longer available: made by {model} now",
    "help_voice_model": "🎤 Voice notes and audio files are sung by <b>{model}</b>.",
    "help_voice_model_moved": "🎤 {old} is no longer available, so voice notes and audio files now go to <b>{model}</b>: it makes a new version of your recording (6 s to 6 min).",
    "error_model_unavailable": "{model} is no longer available at the music service. Please pick another model with /model.",
    "help_groups": (
        "<b>In groups</b>\n"
        "Write <code>/song@{bot} &lt;style&gt;</code> with the lyrics below it, or reply with it "
        "to a message that holds the lyrics: I only see commands and replies meant for me. "
        "Admins choose the group's /model and /language."
    ),
    "model_line": "{mark}<b>{title}</b>: {facts}",
    "model_lyrics_required": Plural(
        "limit",
        one="lyrics required (up to {limit} character)",
        other="lyrics required (up to {limit} characters)",
    ),
    "model_lyrics_optional": Plural(
        "limit",
        one="lyrics optional (up to {limit} character)",
        other="lyrics optional (up to {limit} characters)",
    ),
    "model_lyrics_none": "no lyrics",
    "model_instrumental": "can make instrumentals",
    "model_reference_required": "needs a reference: {kind}",
    "model_reference_optional": "takes a reference: {kind}",
    "model_ref_upload": "voice note or audio file",
    "model_ref_url": "audio link",
    "model_ref_any": "audio link or file",
    "model_length_seconds": "up to {seconds}",
    "model_menu": (
        "<b>Default model for this chat</b>\n"
        "Now: {current}\n\n"
        "{lines_html}\n\n"
        "A <code>model:</code> in /song always wins for that one song."
    ),
    "model_now": "<b>{title}</b>",
    "model_now_auto": "automatic: chosen by what you send (lyrics, instrumental, reference)",
    "button_model_default": "Automatic (by request)",
    "answer_model_set": "Default model: {model}",
    "answer_model_cleared": "Back to automatic model choice",
    "answer_admins_only": "Only this chat's admins can change that.",
    "language_menu": (
        "<b>Language</b>\n"
        "Now: {current}\n\n"
        "I follow your Telegram language unless you pick one here."
    ),
    "language_auto": "automatic ({language})",
    "button_language_auto": "🌐 Automatic (from Telegram)",
    "answer_language_set": "Language: {language}",
    "jobs_title": "<b>Your songs</b>",
    "jobs_line": "{n}. {icon} <b>{title}</b>\n{state} · {model} · {when}",
    "jobs_empty": (
        "You have no songs here yet. Try:\n"
        "<code>/song dreamy synth-pop | Neon lights over the bay</code>"
    ),
    "jobs_hint": "Tap ▶️ to get a song again, or ❌ to cancel one that is still on its way.",
    "state_received": "queued",
    "state_preparing": "preparing the reference",
    "state_submitting": "generating",
    "state_pending": "generating",
    "state_fetching": "sending",
    "state_delivering": "sending",
    "state_delivered": "delivered",
    "state_failed": "failed",
    "state_timed_out": "took too long",
    "state_cancelled": "cancelled",
    "state_interrupted": "interrupted",
    "ago_now": "just now",
    "button_resend": "▶️ {n}. {title}",
    "button_cancel_job": "❌ {n}. {title}",
    "answer_resend": "Here it is again.",
    "answer_no_file": "That song can't be sent again: it never arrived as a file.",
    "answer_not_found": "I can't find that song any more.",
    "resend_failed": "Telegram no longer has that file, so I can't send it again.",
    "again_started": "🔁 <b>Once more</b>: <i>{style}</i> · {model}",
    "vary_model": "🎲 <b>Variation</b>: the same lyrics, now with {model} instead of {previous}.",
    "vary_style": "🎲 <b>Variation</b>: the same model ({model}) with a new style: <i>{style}</i>",
    "vary_retake": "🎲 <b>Variation</b>: another take with {model} (it follows your reference, not a style).",
    "answer_again": "🔁 A new take is on its way.",
    "answer_vary": "🎲 A variation is on its way.",
    "answer_busy": "Already on its way.",
    "answer_refused": "I can't start that one: see my message below.",
    "answer_stale": "This button no longer works. Send the command again.",
    "answer_no_lyrics": "This one is an instrumental: it has no lyrics.",
    "lyrics_header": "📝 <b>{title}</b>",
    "lyrics_truncated": "(the rest is cut to fit Telegram's limits)",
    "cancelled_not_started": (
        "🚫 Cancelled: <i>{song}</i>. It hadn't started yet, so it doesn't count toward your songs."
    ),
    # --- lead: groups (coalesced board) and admin commands ---
    "board": "🎵 <b>Songs in progress</b>: {working} generating, {waiting} waiting, {done} done (of {total})\nFor: {names}\nI'll reply to each request with its song.",
    "board_finished": "✅ <b>All done</b>: {done} delivered, {failed} without a song.",
    "error_operators_only": "Sorry, only the bot's operators can do that.",
    "error_chat_admins_only": "Sorry, only this group's admins can change its settings.",
    "error_group_only": "That setting is for groups.",
    "error_cannot_ban_operator": "Operators can't be banned.",
    "usage_ban": "Use <code>/ban &lt;user id&gt;</code> (or reply to one of their messages).",
    "banned": "User <code>{user_id}</code> is banned: their requests are ignored.",
    "unbanned": "User <code>{user_id}</code> may request songs again.",
    "requests_usage": "Who may request songs here: <b>{current}</b>. Change it with <code>/requests everyone</code> or <code>/requests admins</code>.",
    "requests_set": "From now on, songs here may be requested by: <b>{who}</b>.",
    "stats": "<b>songbot stats</b>\nJobs by state: {states}\nToday: songs {today}, credits {credits_today}\nTotal: songs {total}, credits {credits_total} (refunded {refunded})\n\n<b>Top users</b>\n{top}\n\n<b>Average generation time</b>\n{models}",
    "stats_top_line": "• {name} (<code>{user_id}</code>): {count}",
    "stats_model_line": "• <code>{model}</code>: {avg}",
    # --- issue #9: references (bot/intake/references.py, bot/engine/prepare_reference.py) ---
    "ref_kind_voice": "voice note",
    "ref_kind_audio": "audio file",
    "ref_kind_document": "file",
    "ref_kind_file": "file",
    "ref_kind_video": "video",
    "ref_kind_video_note": "video note",
    "ref_kind_photo": "photo",
    "ref_kind_sticker": "sticker",
    "ref_kind_image_file": "picture file",
    "ref_kind_typed_file": "{type} file",
    "reference_spoken_notice": (
        "🎤 Heads-up: the music service learns from <b>singing</b>, so a spoken voice note "
        "usually gives odd results. I'll try anyway. If you sang it, start the command with "
        "<code>voice:</code> (or <code>song:</code> with music behind you) and I won't mention it."
    ),
    "error_reference_unavailable": (
        "I couldn't get your {kind} from Telegram any more. Please send it again."
    ),
    "error_reference_no_audio": (
        "Your {kind} has no sound, so there's nothing to sing it like. Please send one with audio."
    ),
    "error_model_reference_file_only": (
        "{model} needs the reference as a voice note or audio file sent here, not a link. "
        "For a link, use <code>model:MiniMax-Cover</code> or <code>model:MiniMax-Legacy</code>."
    ),
    "error_model_reference_link_only": (
        "{model} takes a reference only as a link (<code>ref: https://…</code>). For a voice "
        "note or audio file, use <code>model:MiniMax-01</code> or <code>model:MiniMax-Cover</code>."
    ),
    "error_reference_lyrics_too_long": Plural(
        "limit",
        one="With a reference, {model} sings at most {limit} character of lyrics; yours have {length}. Please shorten them, or send the song without a reference (other models take up to 3,000).",
        other="With a reference, {model} sings at most {limit} characters of lyrics; yours have {length}. Please shorten them, or send the song without a reference (other models take up to 3,000).",
    ),
    # --- /write (issue #18) ---
    "cmd_write": "Lyrics from your idea: /write <idea>",
    "button_write_make": "🎵 Make this song",
    "button_write_redo": "🔄 Rewrite",
    "button_write_edit": "✏️ Edit",
    "usage_write": (
        "Tell me what the song is about, e.g. <code>/write a birthday song for my sister Anna "
        "who loves cats</code>, or reply <code>/write</code> to a message that holds the idea."
    ),
    "error_write_idea_too_long": Plural(
        "length",
        one="That idea is {length} character; {limit} is plenty. Please say it in fewer words.",
        other="That idea is {length} characters; {limit} is plenty. Please say it in fewer words.",
    ),
    "write_working": "✍️ Writing lyrics…",
    "write_preview": Plural(
        "limit",
        one="📝 <b>{title}</b>\nStyle: <i>{style}</i>\nFor {model} · {length} of {limit} character\n\n{lyrics}",
        other="📝 <b>{title}</b>\nStyle: <i>{style}</i>\nFor {model} · {length} of {limit} characters\n\n{lyrics}",
    ),
    "write_preview_made": "🎵 Made into a song.",
    "write_edit_hint": (
        "✏️ To change the words, reply to the lyrics above with <code>{command} {style}</code> and "
        "your version of the lyrics on the lines below it. Just <code>{command} {style}</code> as a "
        "reply sings them as they are."
    ),
    "error_lyrics_daily_limit": Plural(
        "limit",
        one="You've written {limit} draft today, the daily limit. It resets at midnight UTC.",
        other="You've written {limit} drafts today, the daily limit. It resets at midnight UTC.",
    ),
    "error_lyrics_refused": (
        "The lyrics model declined to write about that idea. Try putting it another way."
    ),
    "error_lyrics_empty": "The lyrics model answered with nothing. Please try again in a moment.",
    "error_lyrics_unusable": (
        "The lyrics model's answer could not be used, even after a second try. Please try again "
        "or rephrase the idea."
    ),
    "answer_write_not_yours": "Only the person who asked (or an admin) can use these buttons.",
    "answer_write_making": "🎵 On its way.",
    "answer_write_redo": "🔄 Writing a new version…",
    "answer_write_edit": "✏️ See my message below.",
    "answer_write_made": "This one is already a song: use 🔁 Again under it.",
    "help_write": (
        "<b>No lyrics yet?</b>\n"
        "<code>/write a birthday song for my sister who loves cats</code>: I write a title, a "
        "style and lyrics for you to look at first. Nothing is made until you press 🎵 Make this "
        "song; 🔄 writes a new version, ✏️ explains how to change the words."
    ),
    "help_write_limit": Plural(
        "limit",
        one="• {limit} lyrics draft per person per day",
        other="• {limit} lyrics drafts per person per day",
    ),
    # --- Telegram Stars (handlers/stars.py, bot/intake/stars.py) ---
    "stars_payment_required": "A song costs {price} ⭐ and today's free songs are used up. Buy a pack of songs with Telegram Stars:",
    "stars_pack_button": Plural(
        "songs", one="{songs} song for {stars} ⭐", other="{songs} songs for {stars} ⭐"
    ),
    "stars_invoice_title": Plural("songs", one="{songs} song", other="{songs} songs"),
    "stars_invoice_description": Plural(
        "songs",
        one="A credit for {songs} song. If the song fails, its credit comes back.",
        other="Credits for {songs} songs. A song that fails gives its credit back.",
    ),
    "stars_invoice_label": Plural("songs", one="{songs} song", other="{songs} songs"),
    "stars_checkout_off": "This bot doesn't sell songs any more.",
    "stars_checkout_unknown": "This invoice isn't valid any more. Please send /buy for a new one.",
    "stars_checkout_price": "The price has changed (a song now costs {price} ⭐). Please send /buy for a new invoice.",
    "stars_off": "Songs are free here: nothing to buy.",
    "stars_buy": Plural(
        "free",
        one="A song costs {price} ⭐; your first song each day (UTC) is free. Choose a pack:",
        other="A song costs {price} ⭐; your first {free} songs each day (UTC) are free. Choose a pack:",
    ),
    "stars_balance_unlimited": "Your songs are free here: no credits needed.",
    "stars_balance": Plural(
        "left",
        one="<b>{left}</b> song left\nFree today: {free}\nCredits: {credits} (bought {bought}, used {used}, in progress {held})",
        other="<b>{left}</b> songs left\nFree today: {free}\nCredits: {credits} (bought {bought}, used {used}, in progress {held})",
    ),
    "stars_pack_gone": "This pack isn't sold any more. Send /buy for today's packs.",
    "stars_paid": Plural(
        "left",
        one="Thank you! Payment received. You can make <b>{left}</b> song now (credits: {credits}).",
        other="Thank you! Payment received. You can make <b>{left}</b> songs now (credits: {credits}).",
    ),
    "stats_stars": "\n\n<b>Telegram Stars</b>\nReceived {received} ⭐, refunded {refunded} ⭐\nSongs paid with credits: {paid}, free: {free}",
    "stars_credit_returned": "Your credit for this song has been given back.",
    "stars_refund_usage": "Usage: <code>/refund &lt;telegram payment charge id&gt;</code>",
    "stars_refund_unknown": "There is no payment with the charge id {charge_id}.",
    "stars_refund_done": "The payment {charge_id} has been refunded already.",
    "stars_refund_spent": Plural(
        "songs",
        one="Not refunded: payment {charge_id} bought {songs} song, and its buyer has too few unused credits left ({unused}).",
        other="Not refunded: payment {charge_id} bought {songs} songs, and its buyer has too few unused credits left ({unused}).",
    ),
    "stars_refund_failed": "Telegram refused to refund {charge_id}: {reason}. The credits stay with the buyer.",
    "stars_refunded": "Refunded {stars} ⭐; credits removed: {songs}.",
    "cmd_buy": "Buy songs with Telegram Stars",
    "cmd_balance": "How many songs you can still make",
    # Kept songs (#16.6) and the failed-reference limit (#17.4).
    "button_send_again": "📤 Send again",
    "upload_kept_hint": "I kept the song: tap 📤 Send again (here or in /jobs) once Telegram is back; nothing is made or charged again.",
    "answer_sending_again": "Sending it again…",
    "answer_unsent_gone": "That song is no longer kept, so it can't be sent again.",
    "resend_upload_failed": "Telegram refused the upload again. The song is still kept: try 📤 Send again in a few minutes.",
    # --- identity: channels, anonymous admins and redaction (#24.2) ---
    "error_chat_sender_paid": "Songs on this bot are paid for by each person, so a channel or an anonymous admin can't order one. Ask as yourself: post as yourself instead of as the channel, or turn off “Remain anonymous” in your admin rights, or write to me in private.",
    "error_chat_sender_limit": "Channels and anonymous admins can't order any more songs today. Ask as yourself: post as yourself instead of as the channel, or turn off “Remain anonymous” in your admin rights, or write to me in private.",
    # --- library: the library, sharing and song titles (#26.1, #26.2, #25.12) ---
    "cmd_songs": "Your songs: play, search, share",
    "button_library": "📚 My songs",
    "button_prev": "◀️",
    "button_next": "▶️",
    "library_title": "📚 <b>Your songs</b>",
    "library_title_group": "📚 <b>Songs of this chat</b>",
    "library_search_title": "🔎 <b>Songs with “{words}”</b>",
    "library_line": "{n}. <b>{title}</b> · {duration} · {date}",
    "library_page": "Page {page}",
    "library_hint": "Tap a song to play, share, rename or delete it. Search: <code>/songs words from the title or lyrics</code>",
    "library_empty": "No songs here yet. Every song I send you is kept here until you delete it: make one with /song.",
    "library_no_match": "No song has “{words}” in its title or lyrics.",
    "song_card": "🎵 <b>{title}</b>\n<i>{style}</i>\n{model} · {duration} · {date}",
    "song_card_requester": "Asked for by {mention}",
    "song_card_link": "🔗 Shared: {link}\nPlays through the link: {plays}",
    "button_song_send": "▶️ Send",
    "button_song_rename": "✏️ Rename",
    "button_song_delete": "🗑 Delete",
    "button_song_share": "↗️ Share",
    "button_song_link": "🔗 Link",
    "button_song_unshare": "⛔ Stop sharing",
    "button_song_delete_yes": "🗑 Yes, delete it",
    "button_song_delete_no": "Keep it",
    "song_delete_confirm": "Delete “{title}” from the library? Its link and its inline result stop working too. The message with the song in this chat stays.",
    "song_deleted": "🗑 “{title}” is deleted from the library.",
    "song_rename_prompt": "✏️ Send me the new name for “{title}”.",
    "song_renamed": "✏️ Renamed: “{title}”.",
    "song_rename_empty": "A name needs at least one letter or digit. Send another one.",
    "answer_song_gone": "This song is no longer in the library.",
    "answer_song_not_yours": "Only the person who asked for this song (or a chat admin) can do that.",
    "answer_song_sending": "Sending it…",
    "answer_rename_private": "Send me the new name in our private chat.",
    "answer_rename_start": "Open a private chat with me first (tap my name, then Start), then press ✏️ again.",
    "answer_link_stopped": "Sharing stopped: the old link no longer works.",
    "answer_no_song_yet": "This song is not in the library yet; try again in a moment.",
    "song_link_made": "🔗 Anyone who opens this link gets “{title}” from me, free:\n{link}\nTo stop sharing, open the song in /songs and tap ⛔.",
    "shared_song_caption": "🎵 <b>{title}</b>\nMade by {name} with @{bot}.\nWant your own? Send me <code>/song</code> and a style, e.g. <code>/song warm acoustic pop</code>",
    "shared_link_dead": "This link no longer works: the song was deleted or is not shared any more. Make your own with /song.",
    "inline_caption": "🎵 <b>{title}</b>\nvia @{bot}",
    "inline_make_button": "🎵 Make a new song",
    "help_inline": "↗️ Share a song in any chat: type <code>@{bot}</code> and a word from its title.",
    # --- money: refunds, banned buyers, payments that buy no pack (#24.4, #24.13, #24.15) ---
    "stars_refund_pending": "Telegram didn't confirm the refund of {charge_id}, and its list of transactions doesn't show it yet. The credits stay removed; <code>songbot stars reconcile --fix</code> finishes the refund if Telegram never made it.",
    "stars_checkout_banned": "Sorry, you can't buy songs from this bot.",
    "stars_payment_unmatched": "This payment doesn't match any song pack on sale, so no credits were added. The bot's operator can see it and refund your Stars.",
    # --- end of catalogue ---
    # --- flows: the newcomer's first minute, the guided flow, kept requests (#25, #26.3) ---
    "cmd_new": "Make a song step by step",
    "flow_what_text": "🎵 Shall I make a song of this?\n\n<i>{text}</i>",
    "flow_what_new": "🎵 Let's make a song. What do you have?",
    "button_flow_idea_text": "✍️ Write lyrics from this idea",
    "button_flow_inst_text": "🎹 Instrumental in this mood",
    "button_flow_lyrics_text": "📝 These are my lyrics",
    "button_flow_idea": "💡 An idea: write the lyrics for me",
    "button_flow_lyrics": "📝 My own lyrics",
    "button_flow_inst": "🎹 An instrumental",
    "flow_ask_idea": "Send me the idea in a message: who or what the song is about, the mood, a detail or two.",
    "flow_ask_lyrics": "Send me the lyrics in a message. Tags like [Verse] and [Chorus] help.",
    "flow_ask_mood": "Describe the mood or the scene in a message.",
    "flow_ask_style": "Which style? Tap one or type your own, e.g. <i>dreamy synth-pop</i>.",
    "flow_reference_intro": "🎤 Got your recording: I can sing it like this.\nWhich style? Tap one or type your own.",
    "flow_preset_1": "upbeat pop",
    "flow_preset_2": "acoustic folk",
    "flow_preset_3": "energetic rock",
    "flow_preset_4": "lo-fi hip-hop",
    "flow_preset_5": "dance electronic",
    "flow_preset_6": "piano ballad",
    "flow_ask_voice": "Whose voice should sing it?",
    "flow_voice_again": "Tap a voice, or type female, male or any.",
    "button_voice_female": "👩 Female",
    "button_voice_male": "👨 Male",
    "button_voice_any": "🎲 Either",
    "flow_voice_female": "female vocals",
    "flow_voice_male": "male vocals",
    "flow_ask_ref_lyrics": "What should it sing? Send the lyrics in a message, or make it without words.",
    "button_flow_no_words": "🎹 Without words",
    "flow_preview": "🎵 <b>Ready to make</b>\n{what}\nStyle: {style}{voice}\n\n<i>{text}</i>",
    "flow_preview_voice": "\nVoice: {voice}",
    "flow_kind_idea": "✍️ Lyrics written from your idea",
    "flow_kind_lyrics": "📝 Your lyrics",
    "flow_kind_instrumental": "🎹 An instrumental",
    "flow_kind_reference": "🎤 Sung like your recording",
    "flow_no_text": "(no words)",
    "button_flow_make": "🎵 Make it",
    "button_flow_write": "✍️ Write the lyrics",
    "button_flow_change": "✏️ Change",
    "button_flow_cancel": "❌",
    "flow_cancelled": "Cancelled. Send me an idea whenever you like.",
    "flow_handed_to_write": "✍️ Writing the lyrics: the preview comes below.",
    "flow_made": "🎵 On its way: the song will reply here.",
    "answer_flow_making": "🎵 On its way.",
    "answer_flow_done": "This one is already done.",
    "answer_flow_expired": "This has expired. Send /new to start again.",
    "answer_flow_not_yours": "That's someone else's request.",
    "answer_flow_cancelled": "Cancelled.",
    "flow_other": "I can't make a song from this. Send me an idea in words, your lyrics or a voice note, or see /help.",
    "flow_unknown_command": "I don't know {command}. /help lists what I can do.",
    "flow_group_offer": "Step by step works best in a private chat:",
    "button_flow_open": "🎵 Make a song step by step",
    "song_edit_made": "This message has already made its song; editing it changes nothing. Send a new /song for another.",
    "ask_lyrics_question": "There are no lyrics here. Shall I write lyrics for it, or make an instrumental?\nTo skip this question next time: <code>{command} instrumental: {style}</code>",
    "button_ask_write": "✍️ Write lyrics for it",
    "button_ask_inst": "🎹 Instrumental",
    "kept_paid_making": "🎵 Now making the song you asked for before paying.",
    "help_instrumental": "An instrumental without the question about lyrics: <code>/song instrumental: lo-fi piano</code>. Or send /new to be guided step by step.",
    "answer_remake_confirm": "The new song will be yours and count against your songs, not this song's author's. Tap again to go ahead.",
    "resend_done": "📤 Sent: the song is in the chat now.",
    "answer_resend_done": "Already sent.",
    "button_try_again": "🔁 Try again",
    "error_reference_failures": Plural(
        "n",
        one="{n} of your voice notes or audio files today could not be used, so I'm not taking more until tomorrow. A /song without one still works.",
        other="{n} of your voice notes or audio files today could not be used, so I'm not taking more until tomorrow. A /song without one still works.",
    ),
    # --- end of catalogue ---
    # --- i18n: plurals, limits, names, group language, short /help ---
    "help_limit_chars": Plural(
        "max_chars",
        one="• style and lyrics together: up to {max_chars} character",
        other="• style and lyrics together: up to {max_chars} characters",
    ),
    "help_limit_parallel": Plural(
        "per_user",
        one="• one song of yours is made at a time; the rest wait their turn",
        other="• {per_user} of your songs are made at a time; the rest wait their turn",
    ),
    "help_limit_timeout": "• I stop waiting for a song after {waited}",
    "stars_buy_no_free": "A song costs {price} ⭐. Choose a pack:",
    "help_stars_no_free": "⭐ A song costs {price} ⭐: /buy a pack of songs, /balance shows what you have left.",
    "board_finished_none": "⚠️ <b>Finished</b>: no song was made this time (without a song: {failed}).",
    "language_group_menu": (
        "<b>This group's language</b>\n"
        "Now: {current}\n\n"
        "Everyone here gets my replies in it, whatever their own language."
    ),
    "language_group_admins_only": (
        "Only this group's admins can change its language. To change yours, send /language in "
        "a private chat with me."
    ),
    "status_provider_busy": "⏳ <b>The music service is busy</b>, I keep retrying · {model}",
    "help_main": (
        "<b>How to ask for a song</b> (tap an example to copy it)\n"
        "• style on the first line, lyrics below:\n"
        "<code>/song dreamy synth-pop\n[Verse]\nNeon lights over the bay</code>\n"
        "• no lyrics, an instrumental: <code>/song calm ambient piano</code>\n"
        "• no lyrics yet: <code>/write a birthday song for my sister</code>\n\n"
        "Under each song: 🔁 again · 📝 lyrics · 🎲 variation. /jobs lists your songs, "
        "/cancel stops one, /language changes my language."
    ),
    "help_references": (
        "<b>Sing it like this</b>\n"
        "• send a voice note or audio with the caption <code>/song gospel choir</code>, or "
        "reply with it to one\n"
        "• or a link: <code>/song ref: https://example.com/take.mp3 jazz cover</code>\n"
        "• start with <code>voice:</code> if you sang alone, <code>song:</code> if music plays "
        "behind you, <code>instrumental:</code> for music only"
    ),
    "help_group_short": (
        "Write <code>/song@{bot} &lt;style&gt;</code> with the lyrics on the lines below, or "
        "reply with it to a message that holds them. All the rest: /help in a private chat "
        "with me."
    ),
    "button_help_main": "⬅️ Back",
    "button_help_ways": "✍️ More ways",
    "button_help_models": "🎛 Models",
    "button_help_refs": "🎤 Voice and references",
    "button_help_groups": "👥 Groups",
    "button_help_limits": "📏 Limits",
    "model_member": "This chat's model: {current}. Only admins can change it.",
    # --- miniapp: the Mini App page and its API (bot/webapp/) ---
    "app_tab_library": "My songs",
    "app_tab_group": "This group's songs",
    "app_tab_make": "New song",
    "app_search": "Search by title or lyrics",
    "app_empty": "No songs here yet. Make one in the New song tab.",
    "app_nothing_found": "No song matches that search.",
    "app_more": "Show more",
    "app_lyrics": "Lyrics",
    "app_no_lyrics": "An instrumental: no lyrics.",
    "app_rename": "Rename",
    "app_rename_prompt": "New name for the song:",
    "app_delete": "Delete",
    "app_delete_confirm": "Delete “{title}” from your library? Shared links stop working too.",
    "app_share": "Share",
    "app_share_link": "Copy link",
    "app_link_copied": "Link copied",
    "app_plays": "Played via link: {n}",
    "app_by": "asked by {name}",
    "app_style": "Style",
    "app_style_placeholder": "e.g. dreamy synth-pop with female vocals",
    "app_presets": "pop ballad, female vocals|upbeat indie rock|acoustic folk, warm male vocals|lo-fi hip hop|synthwave, 80s|gospel choir",
    "app_lyrics_label": "Lyrics",
    "app_lyrics_placeholder": "[Verse]\nYour words here…\n[Chorus]\n…",
    "app_lyrics_counter": "Characters: {used} / {max}",
    "app_lyrics_over": "Over this model's limit by {over}",
    "app_model": "Model",
    "app_instrumental": "Instrumental, no lyrics",
    "app_reference": "Sing it like this (optional)",
    "app_record": "Record",
    "app_stop": "Stop",
    "app_pick_file": "Choose a file",
    "app_recording_ready": "Recording ready: {seconds} s",
    "app_remove_recording": "Remove",
    "app_purpose_voice": "it's my singing",
    "app_purpose_song": "a whole song",
    "app_purpose_instrumental": "a backing track",
    "app_submit": "Make the song",
    "app_sending": "Sending…",
    "app_made": "Done! Your song is on its way: follow it in the chat with the bot.",
    "app_failed_load": "Could not load your songs. Pull down or reopen the app to try again.",
    "app_mic_denied": "No access to the microphone. You can choose a file instead.",
    "app_title_empty": "The name can't be empty.",
    "app_bad_form": "Something in the form was off. Reopen the app and try again.",
    "app_recording_too_big": "The recording is over 20 MB. Record a shorter take, up to a few minutes.",
    "app_not_allowed": "Sorry, you can't request songs from this bot.",
    "app_already_sent": "This song was already sent. Check the chat with the bot.",
    "app_see_chat": "Look in the chat with the bot: I've answered you there.",
    "app_need_style": "Describe the style first: a genre, a mood or a voice.",
    "app_need_lyrics": "Add lyrics, or tick “Instrumental” for a song without words.",
    "app_request_caption": "🎛 From the app: {style}",
    "app_request_text": "🎛 From the app: {style}",
    "app_start_chat_first": "Open the chat with the bot and press Start first: that's where your songs arrive.",
    "app_try_again": "Telegram didn't answer just now. Please try again in a moment.",
    "app_menu_button": "Songs",
    "app_open_button": "📚 Open the app",
    # --- miniapp: browser fixes, 📚 buttons and /help ---
    "app_model_auto": "Automatic: the best fit for your request",
    "app_purpose_label": "What the recording is",
    "help_app": "📚 <b>The app</b>: your songs with a player, search and sharing, and a form for a new one, with your own recording if you like. Open it with the menu button next to the message field, or with 📚 under a song or in /songs.",
    "app_recording_short": "This take is too short for the model: record more than {min} s.",
}
