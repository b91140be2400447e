"""Tables of the figures for the business and of the review of misunderstood messages."""
from __future__ import annotations

from sqlalchemy import Column, Date, Float, Integer, String, Text

from core.db import Base, UtcDateTime


class StatisticsSnapshot(Base):
    """The figures `python -m operations.cli analytics` computed from the stored
    conversations (JSON: operations.analytics.Figures.as_json); the latest is shown."""

    __tablename__ = "statistics_snapshots"

    id = Column(Integer, primary_key=True)
    computed_at = Column(UtcDateTime, nullable=False)
    figures = Column(Text, nullable=False)


class TrainingReview(Base):
    """A customer's message the assistant hesitated on (masked), once per sentence;
    "pending" until a supervisor picks its intent (`out_of_scope`: « hors sujet »)."""

    __tablename__ = "training_reviews"

    id = Column(Integer, primary_key=True)
    text = Column(String(500), nullable=False)
    text_key = Column(String(64), nullable=False, unique=True)
    predicted_intent = Column(String(80))
    confidence = Column(Float, nullable=False)
    reason = Column(String(20), nullable=False)  # nlu_fallback | low_confidence | did_you_mean | core_fallback
    channel = Column(String(40), nullable=False)
    first_seen_on = Column(Date, nullable=False)
    last_seen_on = Column(Date, nullable=False)
    occurrences = Column(Integer, nullable=False)
    status = Column(String(20), nullable=False, index=True)  # pending | reviewed
    chosen_intent = Column(String(80))
    reviewed_by = Column(String(64))
    reviewed_at = Column(UtcDateTime)
    created_at = Column(UtcDateTime, nullable=False)
