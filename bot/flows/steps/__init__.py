"""Step kinds, one module each, registered by their `kind` name.

Adding a kind: write one module here (model, docstring with an example, `parse`), import
it below, and add its tests in `tests/flows/steps/`.
"""

from bot.flows.steps import (  # noqa: F401  (importing registers the kinds)
    choice,
    confirm,
    consent,
    date,
    dynamic_choice,
    language,
    media,
    message,
    multiple_choice,
    neighbourhood,
    number,
    scale,
    set,
    subflow,
    text,
    time,
    translations,
    yes_no,
)
from bot.flows.steps.base import END, SKIP, STEP_KINDS, Rule, Step

__all__ = ["END", "SKIP", "STEP_KINDS", "Rule", "Step"]
