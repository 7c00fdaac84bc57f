"""Who came into a study through its listening page, and who was excluded there.

One row per participant (pandas): `participants_table`'s screening counts and flag, with the
entry the page recorded (`hdbench serve`): invitation slot, platform ids (PROLIFIC_PID, …),
stage reached and the headphone check. A participant who failed the headphone check is
excluded with that reason; they never saw a trial.
"""

from __future__ import annotations

import json

from hdbench.oracles.listener import Slider
from hdbench.studies.ledger import Ledger
from hdbench.studies.people import participants_table
from hdbench.studies.screening import ScreeningRule

HEADPHONES_FAILED = "headphones_failed"


def entries_table(ledger: Ledger, rule: ScreeningRule, slider: Slider):
    import pandas as pd

    people = participants_table(ledger, rule, slider)
    base = ["participant_id", "invitation", "stage", "headphone_correct", "headphone_trials"]
    entries = pd.DataFrame.from_records(
        [
            {
                "participant_id": participant_id,
                "invitation": invitation,
                "stage": stage,
                "headphone_correct": correct,
                "headphone_trials": trials,
                **json.loads(platform),
            }
            for participant_id, invitation, platform, stage, correct, trials in ledger.entrants()
        ]
    )
    entries = entries.reindex(columns=base + [c for c in entries.columns if c not in base])
    if not len(people):
        return people
    table = people.merge(entries, on="participant_id", how="left")
    failed = table["stage"] == HEADPHONES_FAILED
    table.loc[failed, "flagged"] = True
    table.loc[failed, "reason"] = [
        f"failed the headphone check ({c:.0f} of {t:.0f} right)"
        for c, t in zip(
            table.loc[failed, "headphone_correct"],
            table.loc[failed, "headphone_trials"],
            strict=True,
        )
    ]
    return table
