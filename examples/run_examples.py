"""Run the three Trafford example options (and all three together) and write their output.

python examples/run_examples.py          # writes examples/output/ (replacing it)
"""

from __future__ import annotations

import shutil
from pathlib import Path

import optimiser
from optimiser.reports.workbook import write_workbook

HERE = Path(__file__).parent
FILES = [
    "autism_base_stretford_high.yaml",
    "semh_expansion_egerton_high.yaml",
    "inmss_fee_cap.yaml",
    "all_three.yaml",
]


def main() -> None:
    out = HERE / "output"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    ds = optimiser.load_default()
    scenarios = [optimiser.load_scenario(HERE / f) for f in FILES]
    cmp = optimiser.compare_scenarios(ds, scenarios)
    cmp.kpis.round(4).to_csv(out / "compare.csv", lineterminator="\n")
    cmp.deltas.round(4).to_csv(out / "deltas.csv", lineterminator="\n")
    cmp.moves.round(2).to_csv(out / "who_moves.csv", index=False, lineterminator="\n")
    write_workbook(
        ds, out / "trafford_options_publish.xlsx", scenarios=scenarios, years=5, publish=True
    )
    print(
        cmp.deltas.loc[
            [
                "total_cost_gbp",
                "inmss_children",
                "inmss_cost_gbp",
                "unplaced_children",
                "capital_cost_gbp",
            ]
        ]
        .round(0)
        .to_string()
    )


if __name__ == "__main__":
    main()
