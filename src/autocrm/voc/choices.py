from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Source(models.TextChoices):
    SURVEY = "survey", pgettext_lazy("voc source", "Survey comment")
    COMPLAINT = "complaint", pgettext_lazy("voc source", "Complaint")
    CALL = "call", pgettext_lazy("voc source", "Call note")


class Sentiment(models.TextChoices):
    POSITIVE = "positive", pgettext_lazy("sentiment", "Positive")
    NEGATIVE = "negative", pgettext_lazy("sentiment", "Negative")
    NEUTRAL = "neutral", pgettext_lazy("sentiment", "Neutral or mixed")


SENTIMENT_HELP = _("Read from the text by the voice-of-customer lexicon (ADR 0035).")
