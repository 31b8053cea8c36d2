"""Members' pack: the publish-mode map and a one-page summary by ward, ready to email.

Both files are self-contained HTML (no scripts or styles fetched from the
network) and hold only disclosure-controlled figures: counts of 1-7 children
shown as "c" (and the counts that would let one be worked out), other counts
rounded to the nearest 5, figures based on withheld counts withheld
(:mod:`optimiser.reports.release`, ``docs/disclosure.md``). No child-level data.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from pathlib import Path

from optimiser._outputs import atomic_outputs, check_outputs
from optimiser.allocation.solve import AllocationResult
from optimiser.dataset.model import Dataset
from optimiser.disclosure import SUPPRESSED
from optimiser.maps.build import map_allocation
from optimiser.maps.page import render_html
from optimiser.maps.proposals import option_headline, proposal_figures
from optimiser.maps.ward_figures import la_figures, ward_figures
from optimiser.reports.published import release_for
from optimiser.reports.release import BASELINE, Release
from optimiser.scenarios.compare import Comparison
from optimiser.scenarios.scenario import Scenario
from optimiser.siting.plan import SitingResult

MAP_FILE = "map.html"
SUMMARY_FILE = "summary.html"
COLUMNS = (  # (column of ward_figures, heading, format)
    ("ward_name", "Ward", "text"),
    ("spp_children", "Children with an SPP", "count"),
    ("placed_children", "Placed", "count"),
    ("inmss_children", "Placed in INMSS", "count"),
    ("inmss_share_pct", "INMSS share", "pct"),
    ("unplaced_children", "Not placed", "count"),
    ("transport_gbp_per_child", "Transport £ per placed child", "gbp"),
    ("mean_travel_min", "Mean journey (min)", "count"),
)
STYLE = """
@page{size:A4;margin:12mm}
body{font:10.5pt/1.35 Arial,sans-serif;color:#1b2631;max-width:190mm;margin:8mm auto}
h1{font-size:15pt;margin:0 0 2mm}h2{font-size:11.5pt;margin:5mm 0 1.5mm}
.banner{background:#1e6b52;color:#fff;font-weight:bold;padding:2mm 3mm;border-radius:2mm}
table{border-collapse:collapse;width:100%}th,td{padding:1mm 2mm;border-bottom:1px solid #d5d8dc}
th{background:#eaeded;text-align:left;font-size:9pt}td.n{text-align:right}
tr.total td{font-weight:bold;border-top:2px solid #566573}
.headline td:first-child{width:65%}.notes{font-size:8.5pt;color:#424949}
.notice{background:#fcf3cf;border:1px solid #b7950b;padding:2mm 3mm;border-radius:2mm}
table.option td{font-weight:bold}table.changes{margin-top:2mm}
"""


def _cell(value: float | str | None, kind: str) -> str:
    if kind == "text":
        return html.escape(str(value))
    if value == SUPPRESSED:
        return SUPPRESSED
    if value is None or (isinstance(value, float) and value != value):
        return "–"
    v = float(value)
    return {"count": f"{v:,.0f}", "pct": f"{v:.0f}%", "gbp": f"£{v:,.0f}"}[kind]


def summary_html(
    ds: Dataset,
    res: AllocationResult,
    release: Release | None = None,
    *,
    compare: Comparison | None = None,
) -> str:
    """The one-page members' summary (publish mode only): headline figures, then by ward.

    Every count is the ``release``'s (built from ``res`` and ``compare``'s options
    when not given), the same figures as the pack's map. With ``compare`` (a
    :class:`~optimiser.scenarios.compare.Comparison`) each option comes first: what it
    changes (settings and places, :mod:`optimiser.maps.proposals`) and its headline
    against the baseline (capital, revenue change a year, INMSS placements avoided,
    children newly placed: counts from the release, £ only beside published counts).
    """
    options = _options(compare, res)
    release = release if release is not None else release_for(ds, res, options)
    la = la_figures(res, publish=True, release=release)
    wards = ward_figures(ds, res, publish=True, release=release) if ds.wards is not None else None
    rows = "".join(
        f"<tr><td>{html.escape(k)}</td><td class='n'>{html.escape(v)}</td></tr>" for k, v in la
    )
    area = html.escape(ds.area_name)
    parts = [
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>",
        f"<title>{area}: members' summary</title><style>{STYLE}</style></head>",
        "<body>",
        f"<h1>{area}: places for children with Specialist Provision Packages</h1>",
        *(
            [f"<p class='notice'><b>{html.escape(ds.data_notice)}</b></p>"]
            if ds.data_notice
            else []
        ),
        "<p class='banner'>PUBLISH — disclosure-controlled: counts of 1-7 children are shown as "
        "c, and so are the few other counts from which such a count could be worked out; "
        "other counts are rounded to the nearest 5, and figures based on withheld counts are "
        "withheld too. Totals may not add up because of rounding.</p>",
    ]
    for name, sc in (compare.scenarios if compare is not None else {}).items():
        if name in options:
            parts += _option_section(ds, res, name, sc, options[name], release)
    parts += [
        "<h2>Whole local authority" + (" (baseline)" if options else "") + "</h2>",
        f"<table class='headline'>{rows}</table>",
    ]
    if wards is not None:
        head = "".join(f"<th>{html.escape(h)}</th>" for _, h, _ in COLUMNS)
        body = "".join(
            "<tr>"
            + "".join(
                f"<td{'' if kind == 'text' else ' class=n'}>{_cell(r[col], kind)}</td>"
                for col, _, kind in COLUMNS
            )
            + "</tr>"
            for _, r in wards.iterrows()
        )
        parts += [
            "<h2>By ward (where the children live)" + (", baseline" if options else "") + "</h2>",
            f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>",
        ]
    parts += [
        "<h2>Notes</h2><p class='notes'>",
        "INMSS: independent and non-maintained special schools. Shares and £ per child are "
        "worked out from the rounded counts shown, and are withheld where a count behind them "
        "is. "
        + (
            "An option's changes are the published counts' changes against the baseline; its "
            "places and capital are planning figures, not counts of children. "
            if options
            else ""
        )
        + f"The interactive map is in {MAP_FILE} (opens without an internet connection). "
        f"{html.escape(ds.credit)}</p>",
        "</body></html>\n",
    ]
    return "\n".join(parts)


def _options(compare: Comparison | None, res: AllocationResult) -> dict[str, AllocationResult]:
    if compare is None:
        return {}
    return {k: v for k, v in compare.results.items() if k != BASELINE and v is not res}


def _option_section(
    ds: Dataset,
    res: AllocationResult,
    name: str,
    sc: Scenario,
    other: AllocationResult,
    release: Release,
) -> list[str]:
    """An option's headline and the settings it changes (no child counts by setting)."""
    proposals = proposal_figures(ds, sc.apply(ds), sc)
    places = int((proposals["places_after"] - proposals["places_before"]).sum())
    headline = option_headline(
        name,
        res,
        other,
        capital_gbp=sc.capital_cost_gbp,
        places_added=places,
        publish=True,
        release=release,
    )
    rows = "".join(
        f"<tr><td>{html.escape(k)}</td><td class='n'>{html.escape(v)}</td></tr>"
        for k, v in headline
    )
    out = [
        f"<h2>Option: {html.escape(name)}</h2>",
        *([f"<p>{html.escape(sc.description)}</p>"] if sc.description else []),
        f"<table class='headline option'>{rows}</table>",
    ]
    if len(proposals):
        changes = "".join(
            f"<tr><td>{html.escape(str(r['name']))}</td><td>{html.escape(str(r['change']))}</td>"
            f"<td class='n'>{_cell(float(r['capital_cost_gbp']), 'gbp')}</td></tr>"
            for r in proposals.to_dict("records")
        )
        out += [
            "<table class='changes'><thead><tr><th>Setting</th><th>Change</th>"
            f"<th>Capital</th></tr></thead><tbody>{changes}</tbody></table>"
        ]
    return out


def write_pack(
    ds: Dataset,
    res: AllocationResult,
    out_dir: str | Path,
    *,
    siting: SitingResult | None = None,
    compare: Comparison | Mapping[str, AllocationResult] | None = None,
) -> list[Path]:
    """Write ``map.html`` and ``summary.html`` into ``out_dir`` (created if needed).

    Refuses (FileExistsError, before any work) when either file exists, and
    (OutputError) when the folder cannot be written. Both files are written to
    temporary files first and published together: never one without the other.
    """
    out_dir = Path(out_dir)
    targets = [out_dir / MAP_FILE, out_dir / SUMMARY_FILE]
    check_outputs(*targets)
    options: Mapping[str, AllocationResult] = (
        compare.results if isinstance(compare, Comparison) else (compare or {})
    )
    release = release_for(ds, res, {k: v for k, v in options.items() if v is not res})
    m = map_allocation(ds, res, publish=True, siting=siting, compare=compare, release=release)
    held = compare if isinstance(compare, Comparison) else None
    texts = [render_html(m), summary_html(ds, res, release, compare=held)]
    with atomic_outputs(*targets) as temps:
        for tmp, text in zip(temps, texts, strict=True):
            tmp.write_text(text, encoding="utf-8")
    return targets
