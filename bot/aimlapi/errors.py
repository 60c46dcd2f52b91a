"""What can go wrong talking to the AI/ML API, as one small hierarchy under `SongbotError`.

Why typed: the runner decides by class alone whether to retry later (`retryable`), reconcile
(`SubmitOutcomeUnknown`), or give up and tell the user (`user_message`, rendered from the
catalogue like every other error). The provider's own text is kept in `provider_message` for
the logs and never shown to users: it is English ("Generation failed", "invalid params") while
the user may read Russian or Spanish, and the same failure must read the same in every language
(issue #25 items 11 and 17).
"""

from __future__ import annotations

from bot.errors import SongbotError


class ProviderError(SongbotError):
    """Base of every AI/ML API failure."""

    key = "error_provider_unavailable"
    retryable: bool = False

    def __init__(
        self,
        key: str | None = None,
        /,
        *,
        detail: str = "",
        provider_message: str | None = None,
        http_status: int | None = None,
        request_id: str | None = None,
        **params: object,
    ) -> None:
        super().__init__(key, detail=detail or (provider_message or ""), **params)
        self.provider_message = provider_message
        self.http_status = http_status
        self.request_id = request_id


class InvalidApiKey(ProviderError):
    """401 (or MiniMax 1004/2049): the operator must fix the key; retrying cannot help."""

    key = "error_provider_key_invalid"


class OutOfCredits(ProviderError):
    """403 (or MiniMax 1008/2056): the account has no credits left."""

    key = "error_provider_no_credits"


class InvalidRequest(ProviderError):
    """400/422 (or MiniMax 2013): the provider refused the body; its text is about the request."""

    key = "error_provider_invalid_request"


class ModelUnavailable(ProviderError):
    """The provider no longer serves this model (see `responses.model_gone` for what counts).

    Not retryable as it is: the caller routes the request to the model's fallback, if it has
    one (`bot/aimlapi/availability.py`), or tells the user the model is gone.
    """

    key = "error_model_unavailable"

    def __init__(
        self,
        key: str | None = None,
        /,
        *,
        model: str,
        detail: str = "",
        provider_message: str | None = None,
        http_status: int | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(
            key,
            detail=detail,
            provider_message=provider_message,
            http_status=http_status,
            request_id=request_id,
            model=model,
        )
        self.model = model


class RateLimited(ProviderError):
    """429 (or MiniMax 1002/1039/1041/2045); `retry_after` is the provider's hint in seconds."""

    key = "error_provider_rate_limited"
    retryable = True

    def __init__(
        self,
        key: str | None = None,
        /,
        *,
        retry_after: float | None = None,
        detail: str = "",
        provider_message: str | None = None,
        http_status: int | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(
            key,
            detail=detail,
            provider_message=provider_message,
            http_status=http_status,
            request_id=request_id,
        )
        self.retry_after = retry_after


class ProviderUnavailable(ProviderError):
    """5xx, network failure or timeout on a call that is safe to repeat later."""

    key = "error_provider_unavailable"
    retryable = True


class GenerationFailed(ProviderError):
    """The provider ran the job and reported failure (`status: error`, `base_resp` != 0)."""

    key = "error_generation_failed"


class ContentRejected(GenerationFailed):
    """MiniMax 1026/1027: the prompt, lyrics or result tripped the content filter."""

    key = "error_content_rejected"


class UnknownGeneration(ProviderError):
    """A poll of an id the provider does not know (404/400): the job cannot be recovered."""

    key = "error_unknown_generation"


class SubmitOutcomeUnknown(ProviderError):
    """A paid POST may have reached the provider but we got no usable answer.

    Never re-send blindly: look the job up with `find_generation(client_request_id)` first.
    """

    key = "error_submit_outcome_unknown"

    def __init__(
        self,
        key: str | None = None,
        /,
        *,
        client_request_id: str,
        detail: str = "",
        provider_message: str | None = None,
        http_status: int | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(
            key,
            detail=detail,
            provider_message=provider_message,
            http_status=http_status,
            request_id=request_id,
        )
        self.client_request_id = client_request_id


class AudioDownloadError(ProviderError):
    """The result audio could not be fetched: expired/404, too big, not audio, network."""

    key = "error_audio_download"

    def __init__(
        self,
        key: str | None = None,
        /,
        *,
        retryable: bool = False,
        detail: str = "",
        http_status: int | None = None,
        limit_mb: int | None = None,
    ) -> None:
        if limit_mb is None:
            super().__init__(key, detail=detail, http_status=http_status)
        else:
            super().__init__(key, detail=detail, http_status=http_status, limit_mb=limit_mb)
        self.retryable = retryable
