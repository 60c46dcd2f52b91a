"""The AI/ML API music client, its model registry, typed results and errors."""

from bot.aimlapi.bodies import build_body, validate_request
from bot.aimlapi.client import AimlApiClient
from bot.aimlapi.errors import (
    AudioDownloadError,
    ContentRejected,
    GenerationFailed,
    InvalidApiKey,
    InvalidRequest,
    OutOfCredits,
    ProviderError,
    ProviderUnavailable,
    RateLimited,
    SubmitOutcomeUnknown,
    UnknownGeneration,
)
from bot.aimlapi.models import MODELS, Endpoint, ModelSpec, ReferenceKind, get_model
from bot.aimlapi.session import Timeouts
from bot.aimlapi.types import (
    DownloadedAudio,
    GenerationRequest,
    GenerationStatus,
    LogEntry,
    PollResult,
    Submission,
    SyncAudio,
    UploadResult,
)

__all__ = [
    "MODELS",
    "AimlApiClient",
    "AudioDownloadError",
    "ContentRejected",
    "DownloadedAudio",
    "Endpoint",
    "GenerationFailed",
    "GenerationRequest",
    "GenerationStatus",
    "InvalidApiKey",
    "InvalidRequest",
    "LogEntry",
    "ModelSpec",
    "OutOfCredits",
    "PollResult",
    "ProviderError",
    "ProviderUnavailable",
    "RateLimited",
    "ReferenceKind",
    "Submission",
    "SubmitOutcomeUnknown",
    "SyncAudio",
    "Timeouts",
    "UnknownGeneration",
    "UploadResult",
    "build_body",
    "get_model",
    "validate_request",
]
