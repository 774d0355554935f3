"""The gateway's one way to a language model: the OpenAI SDK's async client, for OpenAI or
any OpenAI-compatible server, and the prompts it is given, versioned in one place."""

from fhir_gateway.llm.model import Completion, LanguageModel, ModelFailure, language_model
from fhir_gateway.llm.prompts import RECORD, SUMMARY, Prompt

__all__ = ["RECORD", "SUMMARY", "Completion", "LanguageModel", "ModelFailure", "Prompt", "language_model"]
