"""How a reference's kind reads in replies, and the refusal that names it.

Why here and not in the intake: the intake refuses a reference before it is stored, the engine
after downloading it; both must name the kind the same way in the reader's language.
"""

from __future__ import annotations

from bot.errors import ReferenceProblem
from bot.i18n import Raw, t


class ReferenceRefused(ReferenceProblem):
    """A `ReferenceProblem` whose `kind` parameter is shown as words in the reader's language.

    Why a subclass: the kind is known where the check runs, the language only where the reply is
    rendered (the handler, or the runner for a job).
    """

    def user_message(self, lang: str | None = None) -> str:
        params = dict(self.params)
        kind = params.get("kind")
        if isinstance(kind, str):
            label = kind_label(kind, lang, mime_type=_str(params.pop("mime", None)))
            params["kind"] = Raw(label)  # rendered by `t()`, so already HTML-safe
        params.pop("mime", None)
        return t(self.key, lang, **params)


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def kind_label(kind: str, lang: str | None, *, mime_type: str | None = None) -> str:
    """The kind as words for replies: "voice note", "audio file", "PDF file"…"""
    if kind == "document" and mime_type:
        major, _, subtype = mime_type.lower().split(";", 1)[0].strip().partition("/")
        if major == "image":
            return t("ref_kind_image_file", lang)
        subtype = subtype.removeprefix("x-")
        if major == "application" and 0 < len(subtype) <= 12 and subtype.isalnum():
            return t("ref_kind_typed_file", lang, type=subtype.upper())
    key = f"ref_kind_{kind}"
    try:
        return t(key, lang)
    except KeyError:
        return t("ref_kind_file", lang)
