"""Screening listeners as Rec. ITU-R BS.1534-3 (MUSHRA, 10/2015) does: hidden references and
anchors mixed into the trials, and post-screening of each participant on them.

BS.1534-3, Annex 1, §4.1.2 (post-screening): an assessor is excluded when they rate the hidden
reference below 90 (of 100) for more than 15 % of the test items, or the mid-range anchor above
90 for more than 15 %. Here the hidden reference is a point of the real data (the stimuli the
acceptable region is built around) and an anchor a point far outside the acceptable region:
`anchor_distance` standard deviations of the real data from their mean, in a random direction
(15 by default: D is below 0.01 there on every shipped oracle, checked by the tests; at 10,
banana's long ridge reaches D = 0.12 from real data on one of its arms (`banana_discover`), and
at 6 vowel_a's region still reaches some). Our anchors are worse than BS.1534's mid-range
anchor, so the bar for "implausibly high" is lower too: by default the upper half of the scale.
A participant is flagged when

    share of reference ratings below `reference_threshold` of the scale > `max_share`, or
    share of anchor ratings above `anchor_threshold` of the scale      > `max_share`, or
    mean reference rating − mean anchor rating (share of the scale)   < `min_gap`, or
    share of trap trials failed                                        > `max_share`.

The gap catches a participant who gives every sound the same rating, which passes both
thresholds when they are set low. A trap trial (paired and differential sessions, as ITU-T
P.808's trapping questions check attention) plays one real token twice: two ratings more than
`trap_tolerance` of the scale apart, or a differential answer beyond ±2·`trap_tolerance`, fail.
In a differential screening trial (reference against anchor) a failure is an answer that does
not prefer the reference. A participant with no screening answers yet is not flagged.

Flags never delete anything: every response stays in the ledger; a study uses unflagged
participants' answers (or everyone's, with `use_all`), see `hdbench.studies.people`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from hdbench.protocol.trials import TrialBatch, TrialKind

REFERENCE, ANCHOR, SAME = "reference", "anchor", "same"


class ScreeningRule(BaseModel):
    """How screening trials are mixed in and how participants are judged on them."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    rate: float = Field(0.1, ge=0.0, le=0.5, description="share of a session's screening trials")
    reference_threshold: float = Field(
        0.9, ge=0.0, le=1.0, description="a hidden reference rated below this share fails"
    )
    anchor_threshold: float = Field(
        0.5, ge=0.0, le=1.0, description="an anchor rated above this share of the scale fails"
    )
    max_share: float = Field(0.15, ge=0.0, le=1.0, description="failures allowed (BS.1534: 15 %)")
    anchor_distance: float = Field(15.0, gt=0, description="anchors: real-data sds from the mean")
    min_gap: float = Field(
        0.1, ge=0.0, le=1.0, description="mean reference − mean anchor rating, at least"
    )
    trap_share: float = Field(
        1 / 3, ge=0.0, le=1.0, description="share of paired screening trials that are traps"
    )
    trap_tolerance: float = Field(
        0.3, gt=0.0, le=1.0, description="a trap's two ratings further apart than this fail"
    )
    use_all: bool = Field(False, description="use flagged participants' answers too")

    def describe(self) -> str:
        return (
            f"flag a participant who rates the hidden reference below "
            f"{self.reference_threshold:.0%} of the scale, or an anchor above "
            f"{self.anchor_threshold:.0%}, in more than {self.max_share:.0%} of their trials "
            f"(ITU-R BS.1534-3 §4.1.2), who rates references less than {self.min_gap:.0%} of "
            f"the scale above anchors on average, or who fails more than {self.max_share:.0%} "
            f"of trap trials (one sound twice, rated {self.trap_tolerance:.0%} apart); "
            + ("everyone's answers are used" if self.use_all else "flagged answers are not used")
        )


@dataclass(frozen=True)
class Screened:
    """One participant's screening: counts of trials and failures per role."""

    participant_id: str
    num_reference: int = 0
    reference_failures: int = 0
    num_anchor: int = 0
    anchor_failures: int = 0
    reference_sum: float = 0.0  # of ratings as shares of the scale (absolute and paired)
    anchor_sum: float = 0.0
    num_traps: int = 0
    trap_failures: int = 0
    num_differential_references: int = 0  # judged by their sign, not in the gap

    def gap(self) -> float | None:
        """Mean reference rating − mean anchor rating (share of the scale), or None."""
        num_reference = self.num_reference - self.num_differential_references
        num_anchor = self.num_anchor
        if not (num_reference and num_anchor):
            return None
        return self.reference_sum / num_reference - self.anchor_sum / num_anchor

    def flagged(self, rule: ScreeningRule) -> bool:
        return bool(self.reason(rule))

    def reason(self, rule: ScreeningRule) -> str:
        reasons = []
        if self.num_reference and self.reference_failures / self.num_reference > rule.max_share:
            reasons.append(
                f"hidden reference below {rule.reference_threshold:.0%} in "
                f"{self.reference_failures} of {self.num_reference}"
            )
        if self.num_anchor and self.anchor_failures / self.num_anchor > rule.max_share:
            reasons.append(
                f"anchor above {rule.anchor_threshold:.0%} in "
                f"{self.anchor_failures} of {self.num_anchor}"
            )
        gap = self.gap()
        if gap is not None and gap < rule.min_gap:
            reasons.append(f"references rated only {gap:.0%} of the scale above anchors")
        if self.num_traps and self.trap_failures / self.num_traps > rule.max_share:
            reasons.append(f"trap trials failed in {self.trap_failures} of {self.num_traps}")
        return "; ".join(reasons)


def screen(
    rows: list[tuple[str, str, str, str, int, float]], rule: ScreeningRule, low: float, high: float
) -> dict[str, Screened]:
    """Judge participants on their screening answers: rows of (participant, trial, kind, roles,
    answer index, value on the slider's scale, or in [−1, 1] for differential trials)."""
    counts: dict[str, dict[str, float]] = {}
    traps: dict[tuple[str, str], list[float]] = {}
    for participant, trial_id, kind, roles, index, value in rows:
        tally = counts.setdefault(participant, dict.fromkeys(COUNTS, 0))
        role_of = roles.split(",")
        if role_of[0] == SAME:
            traps.setdefault((participant, trial_id), []).append(value)
            continue
        if kind == "differential":
            # "how much more natural is b than a": the reference must win.
            wanted = 1.0 if role_of[1] == REFERENCE else -1.0
            tally["num_reference"] += 1
            tally["num_differential_references"] += 1
            tally["reference_failures"] += int(value * wanted <= 0.0)
            continue
        unit = (value - low) / (high - low)
        if role_of[index] == REFERENCE:
            tally["num_reference"] += 1
            tally["reference_failures"] += int(unit < rule.reference_threshold)
            tally["reference_sum"] += unit
        else:
            tally["num_anchor"] += 1
            tally["anchor_failures"] += int(unit > rule.anchor_threshold)
            tally["anchor_sum"] += unit
    for (participant, _), values in traps.items():
        tally = counts[participant]
        tally["num_traps"] += 1
        if len(values) == 1:  # differential: the same sound twice is "the same"
            tally["trap_failures"] += int(abs(values[0]) > 2 * rule.trap_tolerance)
        else:
            tally["trap_failures"] += int(
                abs(values[0] - values[1]) > rule.trap_tolerance * (high - low)
            )
    return {p: Screened(p, **tally) for p, tally in counts.items()}


COUNTS = (
    "num_reference", "reference_failures", "num_anchor", "anchor_failures", "reference_sum",
    "anchor_sum", "num_traps", "trap_failures", "num_differential_references",
)  # fmt: skip


def screening_trials(
    kind: TrialKind,
    num: int,
    real_data: np.ndarray,
    rule: ScreeningRule,
    rng: np.random.Generator,
) -> tuple[TrialBatch, list[str]]:
    """`num` screening trials of `kind` and the roles of their stimuli ("reference,anchor", …).

    Absolute: a hidden reference or an anchor, half each. Paired and differential: a hidden
    reference and an anchor in one trial, in a random order, or (a share `trap_share` of them)
    a trap: one real token twice. real_data: (num_real, dim)."""
    references = real_data[rng.integers(len(real_data), size=num)]
    anchors = anchor_points(real_data, num, rule.anchor_distance, rng)
    if kind == "absolute":
        is_reference = rng.permutation(np.arange(num) % 2 == 0)
        stimuli = np.where(is_reference[:, None], references, anchors)
        roles = [REFERENCE if r else ANCHOR for r in is_reference]
        return TrialBatch.absolute(stimuli), roles
    reference_first = rng.random(num) < 0.5
    first = np.where(reference_first[:, None], references, anchors)
    second = np.where(reference_first[:, None], anchors, references)
    roles = [f"{REFERENCE},{ANCHOR}" if r else f"{ANCHOR},{REFERENCE}" for r in reference_first]
    is_trap = rng.permutation(np.arange(num) < round(rule.trap_share * num))
    first[is_trap] = second[is_trap] = references[is_trap]
    roles = [f"{SAME},{SAME}" if trap else r for trap, r in zip(is_trap, roles, strict=True)]
    return TrialBatch.build(kind, np.stack([first, second], axis=1)), roles


def anchor_points(
    real_data: np.ndarray, num: int, distance: float, rng: np.random.Generator
) -> np.ndarray:
    """Points (num, dim) `distance` real-data sds from their mean, in random directions."""
    mean, sd = real_data.mean(axis=0), real_data.std(axis=0)
    directions = rng.standard_normal((num, real_data.shape[1]))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    return mean + distance * sd * directions
