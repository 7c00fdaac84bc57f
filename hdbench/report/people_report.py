"""A study answered by people: its listening test as violins, who was excluded, and why the
metrics against the simulated truth are not there."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from hdbench import files
from hdbench.report.suite_figures import plot_listening
from hdbench.studies.entries import entries_table
from hdbench.studies.ledger import LEDGER_NAME, Ledger
from hdbench.studies.people import stored_rule

NOTE = """# Scored by people

This study was answered by people through `hdbench serve`. The acceptability they judged by is
unknown, so the metrics that compare samples with the simulated truth (MMD², coverage, variance
ratios, modes, …) are not computed: they would score the method against an oracle nobody
listened to. What says how the method did is the listening test: `listening.png` (ratings of the
real data and of the method's samples, the papers' Fig. 6) and the `listening_*` columns of
`metrics.csv`.

Screening: {rule}.
Participants: {num} ({num_flagged} flagged; see `participants.csv`).
{excluded}
"""


def write_people_outputs(oracle, result, folder: Path) -> list[Path]:
    """listening.png, participants.csv and SCORING.md in the run folder of a study people
    answered."""
    listening = pd.concat(
        [
            pd.DataFrame({"rating": result.arrays[f"listening_{which}"], "set": which})
            for which in ("real", "generated")
        ]
    ).assign(oracle=oracle.name, method=result.row["method"])
    with Ledger(folder / LEDGER_NAME) as ledger:
        rule = stored_rule(ledger)
        people = entries_table(ledger, rule, oracle.listener.slider)
    flagged = people[people["flagged"].astype(bool)] if len(people) else people
    excluded = "\n".join(
        f"- {row.participant_id}: {row.reason} ({row.num_used} of {row.num_values} values used)"
        for row in flagged.itertuples()
    )
    note = NOTE.format(
        rule=rule.describe(),
        num=len(people),
        num_flagged=len(flagged),
        excluded=f"Excluded:\n{excluded}\n" if excluded else "No participant was excluded.\n",
    )
    return [
        plot_listening(listening, folder / "listening.png"),
        files.write_frame(people, folder / "participants.csv"),
        files.write_text(note, folder / "SCORING.md"),
    ]
