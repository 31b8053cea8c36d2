"""Command line: ``optimiser ...`` — a thin layer over the public API.

User mistakes (bad data, bad paths) print a clear message and exit 1, never a
traceback. DIR defaults to the embedded Trafford data.

The commands live in :mod:`optimiser.cli.allocation` (validate, demo, allocate,
transport), :mod:`optimiser.cli.planning` (compare, horizon, site), :mod:`optimiser.cli.futures`
(futures), :mod:`optimiser.cli.robust_site` (robust-site),
:mod:`optimiser.cli.publishing` (report, map, pack, calibrate),
:mod:`optimiser.cli.init` (init), :mod:`optimiser.cli.explain` (explain, audit),
:mod:`optimiser.cli.imports` (the ``import`` group: gias, ons, children),
:mod:`optimiser.cli.template` (template), :mod:`optimiser.cli.roads` (roads) and
:mod:`optimiser.cli.webapp` (app);
what they share is in :mod:`optimiser.cli.common`.
This module builds the app, in the order help lists the commands, and is the
``optimiser`` script's entry point.
"""

from __future__ import annotations

import typer

from optimiser.cli.allocation import allocate_cmd, demo_cmd, transport_cmd, validate_cmd
from optimiser.cli.explain import audit_cmd, explain_cmd
from optimiser.cli.futures import futures_cmd
from optimiser.cli.imports import import_app
from optimiser.cli.init import init_cmd
from optimiser.cli.planning import compare_cmd, horizon_cmd, site_cmd
from optimiser.cli.publishing import calibrate_cmd, map_cmd, pack_cmd, report_cmd
from optimiser.cli.roads import roads_cmd
from optimiser.cli.robust_site import robust_site_cmd
from optimiser.cli.template import template_cmd
from optimiser.cli.webapp import app_cmd

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Plan places for children with Specialist Provision Packages (SEND).",
)
# Help lists the commands in this order.
app.command("validate")(validate_cmd)
app.command("demo")(demo_cmd)
app.command("allocate")(allocate_cmd)
app.command("explain")(explain_cmd)
app.command("audit")(audit_cmd)
app.command("compare")(compare_cmd)
app.command("horizon")(horizon_cmd)
app.command("futures")(futures_cmd)
app.command("report")(report_cmd)
app.command("map")(map_cmd)
app.command("pack")(pack_cmd)
app.command("transport")(transport_cmd)
app.command("site")(site_cmd)
app.command("robust-site")(robust_site_cmd)
app.command("init")(init_cmd)
app.command("calibrate")(calibrate_cmd)
app.add_typer(import_app, name="import")
app.command("template")(template_cmd)
app.command("roads")(roads_cmd)
app.command("app")(app_cmd)


def main() -> None:
    """Entry point of the ``optimiser`` script."""
    app()
