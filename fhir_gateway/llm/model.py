"""A language model behind the official OpenAI SDK (async), configured by `OPENAI_*`.

The SDK retries timeouts, 429 and 5xx itself (`OPENAI_MAX_RETRIES`, honouring
`Retry-After`); whatever still fails, an answer without text included, is a `ModelFailure`
whose reason names the kind of failure only: prompts and answers hold patient data and
are never logged.
"""

import logging
from dataclasses import dataclass

import openai

from fhir_gateway.settings import Settings

logger = logging.getLogger(__name__)
# The SDK's DEBUG records hold whole requests, prompts included: patient data. Never below WARNING.
logging.getLogger("openai").setLevel(logging.WARNING)


@dataclass(frozen=True)
class Completion:
    text: str
    model: str


class ModelFailure(Exception):
    """The model gave no usable answer; `reason` says why, in a few words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class LanguageModel:
    """Chat completions of one model, through one client (one connection pool)."""

    def __init__(
        self,
        *,
        api_key: str,
        model: str,
        base_url: str | None = None,
        timeout_seconds: float = 20.0,
        max_retries: int = 1,
    ) -> None:
        self.model = model
        self._client = openai.AsyncOpenAI(
            api_key=api_key,
            base_url=base_url,
            timeout=timeout_seconds,
            max_retries=max_retries,
        )

    async def complete(
        self, messages: list[dict[str, str]], *, max_tokens: int, model: str | None = None
    ) -> Completion:
        """The answer of this model (or of `model`, on the same server) to `messages`, or ModelFailure."""
        try:
            answer = await self._client.chat.completions.create(
                model=model or self.model,
                messages=messages,  # type: ignore[arg-type]
                max_tokens=max_tokens,
                temperature=0.2,
            )
        except openai.APITimeoutError:
            raise self._failure("the model did not answer in time") from None
        except openai.RateLimitError:
            raise self._failure("the model refused for now (429)") from None
        except openai.APIStatusError as error:
            raise self._failure(f"the model's server answered {error.status_code}") from None
        except openai.APIConnectionError:
            raise self._failure("the model's server could not be reached") from None
        except (openai.OpenAIError, ValueError):
            # An answer the SDK cannot read as a completion (JSON it cannot parse, say).
            raise self._failure("the model's answer could not be read") from None
        try:
            choice = answer.choices[0] if answer.choices else None
            text = choice.message.content if choice is not None and choice.message is not None else None
        except (AttributeError, TypeError, IndexError):
            # A body that is JSON but no completion: the SDK hands it over as it came.
            raise self._failure("the model's answer was no completion") from None
        if not isinstance(text, str) or not text.strip():
            raise self._failure("the model's answer held no text")
        if getattr(choice, "finish_reason", None) == "length":
            # Cut off at the token cap: half a summary is no summary.
            raise self._failure("the model's answer was cut short")
        return Completion(text=text.strip(), model=answer.model or model or self.model)

    async def aclose(self) -> None:
        await self._client.close()

    def _failure(self, reason: str) -> ModelFailure:
        logger.warning("Language model %s failed: %s", self.model, reason)
        return ModelFailure(reason)


def language_model(settings: Settings) -> LanguageModel | None:
    """The configured model, or None without an `OPENAI_API_KEY` (summaries are then offline)."""
    if settings.openai_api_key is None:
        return None
    return LanguageModel(
        api_key=settings.openai_api_key.get_secret_value(),
        model=settings.openai_model,
        base_url=settings.openai_base_url,
        timeout_seconds=settings.openai_timeout_seconds,
        max_retries=settings.openai_max_retries,
    )
