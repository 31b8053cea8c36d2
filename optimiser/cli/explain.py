"""Casework commands: why one child went where they did, and the parental preference audit.

Both print child-level working data (pseudonymous ids): never publish them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table as RichTable

from optimiser._errors import OptimiserError
from optimiser.cli.common import (
    DirArg,
    console,
    fail,
    load_or_exit,
    refuse_existing_or_exit,
    write_csv,
)

ScenarioOpt = Annotated[
    Path | None, typer.Option(help="Scenario YAML applied to the data first (e.g. a policy).")
]


def _money(v: object) -> str:
    return "" if v is None or v != v else f"£{float(v):,.0f}"  # type: ignore[arg-type]


def _num(v: object, fmt: str = "{:.0f}") -> str:
    return "" if v is None or v != v else fmt.format(v)


def _kids(n: int) -> str:
    return f"{n} child" if n == 1 else f"{n} children"


def explain_cmd(
    args: Annotated[
        list[str],
        typer.Argument(help="[DIR] CHILD_ID: the dataset (optional) and the child's id."),
    ],
    scenario: ScenarioOpt = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Also write the table to this CSV (working data: a child's record)."),
    ] = None,
) -> None:
    """Why a child went where they did: every setting considered, its costs and the reason."""
    from optimiser.allocation.explain import explain
    from optimiser.scenarios.scenario import load_scenario

    if len(args) not in (1, 2):
        fail(ValueError("give CHILD_ID, or DIR CHILD_ID (e.g. `optimiser explain C00190`)"))
    path, child_id = (Path(args[0]), args[1]) if len(args) == 2 else (None, args[0])
    refuse_existing_or_exit(out)
    ds = load_or_exit(path)
    try:
        sc = load_scenario(scenario) if scenario else None
        with console.status(f"Explaining {child_id}…"):
            table = explain(ds, child_id, sc)
    except OptimiserError as exc:
        fail(exc)
    for line in table.attrs.get("summary", []):
        console.print(line, markup=False)
    unplaced = table["one_more_place_gbp"].notna().any()
    eligible = table[table["eligible"]]
    rich = RichTable(title=f"Settings the model could use for {child_id}")
    heads = ["setting", "chosen", "place £", "transport £", "min", "km", "rank"]
    heads += ["one more place £"] if unplaced else []
    for h in [*heads, "reason"]:
        rich.add_column(h, justify="left" if h in ("setting", "reason") else "right")
    for r in eligible.itertuples(index=False):
        cells = [f"{r.setting_id} {r.name}", "✓" if r.chosen else ""]
        cells += [_money(r.place_cost_gbp), _money(r.transport_cost_gbp)]
        cells += [_num(r.travel_min), _num(r.distance_km, "{:.1f}"), _num(r.preference_rank)]
        cells += [_money(r.one_more_place_gbp)] if unplaced else []
        rich.add_row(*[str(c) for c in cells], str(r.reason))
    console.print(rich)
    ruled = table[~table["eligible"]]
    if len(ruled):
        rest = RichTable(title="Settings ruled out (nearest first)")
        for h in ("setting", "min", "rank", "why not"):
            rest.add_column(h, justify="right" if h in ("min", "rank") else "left")
        for r in ruled.itertuples(index=False):
            rest.add_row(
                f"{r.setting_id} {r.name}",
                _num(r.travel_min),
                _num(r.preference_rank),
                str(r.reason),
            )
        console.print(rest)
    if out is not None:
        write_csv(table, out)


def audit_cmd(
    path: DirArg = None,
    threshold: Annotated[
        float | None,
        typer.Option(
            help="Efficient-use threshold [GBP/yr]: honour a preference costing less "
            "(default: policy honour_preference_below_gbp).",
            min=0,
        ),
    ] = None,
    scenario: ScenarioOpt = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Write the audit to this CSV (working data: contains child ids)."),
    ] = None,
) -> None:
    """Parental preference audit: ranked settings above each placement, their cost, verdict."""
    from optimiser.allocation.preferences import audit_summary, preference_audit
    from optimiser.scenarios.scenario import load_scenario

    refuse_existing_or_exit(out)
    ds = load_or_exit(path)
    try:
        if scenario:
            ds = load_scenario(scenario).apply(ds)
        with console.status("Auditing parental preferences…"):
            audit = preference_audit(ds, threshold_gbp=threshold)
    except OptimiserError as exc:
        fail(exc)
    m = audit_summary(audit)
    t = ds.policy.honour_preference_below_gbp if threshold is None else threshold
    console.print(
        f"{m['pairs']} ranked preferences above the placement ({_kids(m['children'])}): "
        f"{m['spare_pairs']} with a spare place ({_kids(m['spare_children'])}), "
        f"{m['nearer_displaced_pairs']} full where a child living further away holds a place; "
        + (
            f"{m['honour_pairs']} cost under £{t:,.0f} a year to honour."
            if t is not None
            else "no threshold (give --threshold GBP or policy honour_preference_below_gbp)."
        ),
        markup=False,
    )
    rich = RichTable(title="Parental preferences not met (cost of honouring, £ a year)")
    heads = ["child", "package", "placed", "rank", "preferred", "rank", "spare"]
    for h in [*heads, "honour £", "others move", "nearer than", "verdict"]:
        rich.add_column(h, justify="left" if h in ("child", "verdict") else "right")
    for r in audit.itertuples(index=False):
        rich.add_row(
            str(r.child_id),
            str(r.package_id),
            str(r.placed_setting_id or "unplaced"),
            _num(r.placed_rank),
            str(r.preferred_setting_id),
            _num(r.preferred_rank),
            "yes" if r.spare_place else "",
            _money(r.honour_cost_gbp),
            str(r.others_moved),
            str(r.nearer_than_holders),
            str(r.verdict),
        )
    console.print(rich)
    if out is not None:
        write_csv(audit, out)
