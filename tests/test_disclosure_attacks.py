"""Attack the publish outputs as a hostile reader would, and recover nothing.

The reader here is written independently of ``optimiser.suppression``: it reads
the publish workbook (openpyxl), the publish map (the GeoJSON embedded in the
HTML) and the pack's summary, turns every figure into what it says about the
exact count (``c`` → ≥ 0, 0 → 0, n → [n − 2, n + 2]), adds every sum a reader
knows (LA = Σ wards = Σ package × phase, demand = placed + unplaced, INMSS ≤
placed, a package's phases = its INMSS settings = its reasons, setting types =
LA placed, settings = their type, an option's demand = the baseline's) and
then, by linear programming, narrows every ``c`` as far as it will go. The
test knows the exact values and fails when a ``c`` that hides 1-7 children can
be narrowed inside [1, 7], or any ``c`` pinned to one number. Differencing:
two publish workbooks of the same area with different options, written in
separate runs, attacked together.
"""

from __future__ import annotations

import html
import math
import re
from collections import defaultdict
from pathlib import Path

import numpy as np
import openpyxl
import pytest
import scipy.optimize
import scipy.sparse
from helpers import workbook_rows

import optimiser
from optimiser.maps.build import map_allocation
from optimiser.maps.pack import summary_html
from optimiser.maps.page import render_html
from optimiser.maps.ward_figures import ward_counts
from optimiser.reports.published import release_for
from optimiser.reports.workbook import write_workbook
from optimiser.schema.tables import INMSS_TYPES

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
HEADER_ROW = 3
SUMMARY_LABELS = {
    "children placed": "placed",
    "of whom continuing placements": "continuing",
    "of whom newly placed": "new",
    "children without a suitable place": "unplaced",
    "children in INMSS": "inmss",
    "children transported": "transported",
}


class Reader:
    """What a reader knows: bounds on named counts and linear relations among them."""

    def __init__(self) -> None:
        self.index: dict[tuple, int] = {}
        self.lo: list[float] = []
        self.hi: list[float] = []
        self.eq: list[dict[int, float]] = []
        self.le: list[dict[int, float]] = []  # Σ coef · x ≤ 0

    def var(self, name: tuple) -> int:
        if name not in self.index:
            self.index[name] = len(self.lo)
            self.lo.append(0.0)
            self.hi.append(math.inf)
        return self.index[name]

    def shown(self, name: tuple, value) -> None:
        """A published figure: intersect what it says with what is known already."""
        i = self.var(name)
        if value == "c" or value is None:
            return
        v = float(str(value).replace(",", ""))
        lo, hi = (0.0, 0.0) if v == 0 else (v - 2, v + 2)
        self.lo[i], self.hi[i] = max(self.lo[i], lo), min(self.hi[i], hi)

    def sums(self, total: tuple, parts: list[tuple]) -> None:
        row = defaultdict(float)
        row[self.var(total)] -= 1
        for p in parts:
            row[self.var(p)] += 1
        self.eq.append(dict(row))

    def at_most(self, part: tuple, whole: tuple) -> None:
        self.le.append({self.var(part): 1.0, self.var(whole): -1.0})

    def _matrix(self, rows: list[dict[int, float]]):
        n = len(self.lo)
        if not rows:
            return None
        triples = [(i, j, v) for i, row in enumerate(rows) for j, v in row.items()]
        r, c, d = zip(*triples, strict=True)
        return scipy.sparse.csr_array((d, (r, c)), shape=(len(rows), n))

    def intervals(self, names: list[tuple]) -> dict[tuple, tuple[float, float]]:
        n = len(self.lo)
        a_eq, a_ub = self._matrix(self.eq), self._matrix(self.le)
        bounds = [
            (lo, None if math.isinf(hi) else hi) for lo, hi in zip(self.lo, self.hi, strict=True)
        ]
        out = {}
        for name in names:
            k = self.index[name]
            ends = []
            for sign in (1.0, -1.0):
                c = np.zeros(n)
                c[k] = sign
                res = scipy.optimize.linprog(
                    c,
                    A_eq=a_eq,
                    b_eq=None if a_eq is None else np.zeros(a_eq.shape[0]),
                    A_ub=a_ub,
                    b_ub=None if a_ub is None else np.zeros(a_ub.shape[0]),
                    bounds=bounds,
                    method="highs",
                )
                assert res.status in (0, 3), f"the published figures are inconsistent: {res}"
                ends.append(sign * res.fun if res.status == 0 else sign * -math.inf)
            out[name] = (ends[0], ends[1])
        return out


def half_up(x: float) -> int:
    return math.floor(x + 0.5)


def rows(book, sheet: str) -> list[dict]:
    """A sheet's rows keyed by column name (and Comparison rows by KPI key)."""
    return workbook_rows(book, sheet, header_row=HEADER_ROW)


def read_workbook(reader: Reader, path: Path, *, options: list[str]) -> dict:
    """Every count of a publish workbook into ``reader``, with the sums a reader knows."""
    book = openpyxl.load_workbook(path, read_only=True)
    base = "baseline"
    la = {}
    for r in rows(book, "Summary"):
        key = SUMMARY_LABELS.get(str(r["measure"]).strip())
        if key:
            la[key] = r["value"]
            reader.shown((base, "la", "", key), r["value"])
    reader.sums(
        (base, "la", "", "placed"), [(base, "la", "", "continuing"), (base, "la", "", "new")]
    )
    reader.at_most((base, "la", "", "transported"), (base, "la", "", "placed"))
    status = ("demand", "placed", "inmss", "unplaced")

    def unit(scope, table, key, r):
        for m in status:
            reader.shown((scope, table, key, m), r.get(f"{m}_children", "c"))
        demand = (base if table in ("ward", "phase") else scope, table, key, "demand")
        reader.sums(demand, [(scope, table, key, "placed"), (scope, table, key, "unplaced")])
        reader.at_most((scope, table, key, "inmss"), (scope, table, key, "placed"))

    phases = []
    for r in rows(book, "Sufficiency"):
        key = f"{r['package_id']}|{r['phase']}"
        phases.append(key)
        unit(base, "phase", key, r)
    wards = []
    for r in rows(book, "Wards"):
        wards.append(r["ward_code"])
        unit(base, "ward", r["ward_code"], r)
        # derived figures must be functions of the published ones (no more information)
        if r["inmss_share"] != "c":
            assert (
                r["inmss_share"] == half_up(100 * r["inmss_children"] / r["placed_children"]) / 100
            )
        if r["transport_gbp_per_child"] != "c":
            cost = half_up(r["transport_cost_gbp"] / 100) * 100
            assert r["transport_gbp_per_child"] == half_up(cost / r["placed_children"] / 10) * 10
    la_demand = (base, "la", "", "demand")
    reader.sums(la_demand, [(base, "la", "", "placed"), (base, "la", "", "unplaced")])
    for m in status:
        reader.sums((base, "la", "", m), [(base, "phase", k, m) for k in phases])
    packages = sorted({k.split("|")[0] for k in phases})
    inmss_rows = defaultdict(list)
    for r in rows(book, "INMSS"):
        name = (base, "inmss", f"{r['setting_id']}|{r['package_id']}", "inmss")
        reader.shown(name, r["inmss_children"])
        inmss_rows[r["package_id"]].append(name)
    reasons = defaultdict(list)
    for r in rows(book, "Unplaced"):
        name = (base, "reason", f"{r['package_id']}|{r['reason']}", "unplaced")
        reader.shown(name, r["unplaced_children"])
        reasons[r["package_id"]].append(name)
    for p in packages:
        mine = [k for k in phases if k.startswith(f"{p}|")]
        reader.sums((base, "package", p, "inmss"), [(base, "phase", k, "inmss") for k in mine])
        reader.sums((base, "package", p, "inmss"), inmss_rows.get(p, []))
        reader.sums(
            (base, "package", p, "unplaced"), [(base, "phase", k, "unplaced") for k in mine]
        )
        reader.sums((base, "package", p, "unplaced"), reasons.get(p, []))
    types = []
    for r in rows(book, "Transport"):
        name = (base, "type", r["setting_type"], "placed")
        reader.shown(name, r["placed_children"])
        types.append((r["setting_type"], name))
    reader.sums((base, "la", "", "placed"), [n for _, n in types])
    reader.sums((base, "la", "", "inmss"), [n for t, n in types if t in INMSS_TYPES])
    if "Comparison" in book.sheetnames:
        comp = {r["measure"]: r for r in rows(book, "Comparison")}
        for option in options:
            for m in ("placed", "inmss", "unplaced"):
                reader.shown((option, "la", "", m), comp[f"{m}_children"][option])
            reader.sums(la_demand, [(option, "la", "", "placed"), (option, "la", "", "unplaced")])
            for k in phases:
                p, ph = k.split("|")
                for m in ("placed", "unplaced"):
                    reader.shown((option, "phase", k, m), comp[f"{m}_children_{p}_{ph}"][option])
                reader.sums(
                    (base, "phase", k, "demand"),
                    [(option, "phase", k, "placed"), (option, "phase", k, "unplaced")],
                )
            for m in ("placed", "unplaced"):
                reader.sums((option, "la", "", m), [(option, "phase", k, m) for k in phases])
    return {"wards": wards, "phases": phases, "la": la}


def read_map(reader: Reader, page: str, ds, wards: list[str], options: list[str]) -> None:
    """The publish map's figures: wards (and each option's INMSS by ward), settings."""
    from test_maps import properties

    props = properties(page)
    code_of = dict(zip(ds.wards["ward_name"], ds.wards["ward_code"], strict=True))
    settings = ds.settings.set_index("name")
    by_type = defaultdict(list)
    merged: dict[str, dict] = defaultdict(dict)
    for p in props:
        if "ward_name" in p and "setting_name" not in p:
            code = code_of[html.unescape(p["ward_name"])]  # map text is HTML-escaped
            for col, m in (
                ("spp_children", "demand"),
                ("placed_children", "placed"),
                ("inmss_children", "inmss"),
                ("unplaced_children", "unplaced"),
                ("base_inmss_children", "inmss"),
            ):
                if col in p:
                    reader.shown(("baseline", "ward", code, m), p[col])
            merged[code].update(p)
        if "filled_children" in p:
            sid = settings.loc[html.unescape(p["name"]), "setting_id"]
            sid = sid if isinstance(sid, str) else sid.iloc[0]
            name = ("baseline", "setting", sid, "placed")
            reader.shown(name, p["filled_children"])
            t = ds.settings.set_index("setting_id").loc[sid, "setting_type"]
            by_type[t].append(name)
    for t, names in by_type.items():
        reader.sums(("baseline", "type", t, "placed"), names)
    shares = 0
    for code, p in merged.items():
        if "inmss_share_pct" in p:
            # the share is the ratio of the counts shown in the other layers: it pins nothing
            n, d = p["inmss_children"], p["placed_children"]
            expected = "c" if "c" in (n, d) or not d else half_up(100 * n / d)
            assert p["inmss_share_pct"] == expected, (code, p)
            shares += 1
    assert shares == len(ds.wards)
    assert wards, "the map has no ward figures"


def truth_of(ds, results: dict) -> dict[tuple, float]:
    """The exact value of every cell a reader can name (working data, for the test only)."""
    out: dict[tuple, float] = {}
    for name, res in results.items():
        k = res.kpis
        la = {
            "placed": k["placed_children"],
            "inmss": k["inmss_children"],
            "unplaced": k["unplaced_children"],
            "continuing": k["continuing_children"],
            "new": k["new_placements"],
            "transported": k["transported_children"],
            "demand": k["placed_children"] + k["unplaced_children"],
        }
        out.update({(name, "la", "", m): v for m, v in la.items()})
        for r in res.sufficiency.itertuples(index=False):
            key = f"{r.package_id}|{r.phase}"
            vals = {"placed": r.placed, "inmss": r.placed_inmss, "unplaced": r.unplaced}
            vals["demand"] = r.demand
            out.update({(name, "phase", key, m): float(v) for m, v in vals.items()})
        if name != "baseline":
            continue
        w = ward_counts(ds, res)
        for r in w.itertuples(index=False):
            vals = {"demand": r.spp_children, "placed": r.placed_children}
            vals |= {"inmss": r.inmss_children, "unplaced": r.unplaced_children}
            out.update({(name, "ward", r.ward_code, m): float(v) for m, v in vals.items()})
        pl = res.placements
        for (s, p), n in (
            pl[pl["setting_type"].isin(INMSS_TYPES)]
            .groupby(["setting_id", "package_id"])
            .size()
            .items()
        ):
            out[(name, "inmss", f"{s}|{p}", "inmss")] = float(n)
        for s, n in pl.groupby("setting_id").size().items():
            out[(name, "setting", s, "placed")] = float(n)
        for t, n in pl.groupby("setting_type").size().items():
            out[(name, "type", t, "placed")] = float(n)
    return out


def attack(reader: Reader, truth: dict[tuple, float]) -> list[str]:
    """Every published or implied count a reader can narrow too far: [] when safe."""
    targets = [n for n, i in reader.index.items() if reader.hi[i] == math.inf and n in truth]
    found = reader.intervals(targets)
    bad = []
    for name, (lo, hi) in found.items():
        v = truth[name]
        assert lo - 1e-6 <= v <= hi + 1e-6, f"the reader's model is wrong about {name}"
        if hi < 1 - 1e-6:
            continue  # shown to be 0: zeros are published as they are
        pinned = not math.isinf(hi) and math.floor(hi + 1e-6) <= math.ceil(lo - 1e-6)
        small = 1 <= v <= 7
        if pinned or (small and (lo > 1 + 1e-6 or hi < 7 - 1e-6)):
            bad.append(f"{name}: exact {v:g}, reader narrows it to [{lo:.2f}, {hi:.2f}]")
    return bad


@pytest.fixture(scope="module")
def options(default_ds):
    names = ["autism_base_stretford_high", "semh_expansion_egerton_high"]
    return [optimiser.load_scenario(EXAMPLES / f"{n}.yaml") for n in names]


@pytest.fixture(scope="module")
def compared(default_ds, options):
    return optimiser.compare_scenarios(default_ds, options)


@pytest.fixture(scope="module")
def books(default_ds, options, tmp_path_factory):
    """Two publish workbooks of the same area, one option each, written in separate runs."""
    out = tmp_path_factory.mktemp("attack")
    paths = []
    for i, sc in enumerate(options):
        paths.append(
            write_workbook(default_ds, out / f"pub{i}.xlsx", scenarios=[sc], years=0, publish=True)
        )
    return paths


def test_primary_suppression_alone_would_leak(default_ds, compared):
    """The attack is not vacuous: rounding and 1-7 → c without secondary suppression leak."""
    res = compared.results["baseline"]
    truth = truth_of(default_ds, {"baseline": res})
    w = ward_counts(default_ds, res)
    reader = Reader()
    for r in w.itertuples(index=False):
        for col, m in (
            ("spp_children", "demand"),
            ("placed_children", "placed"),
            ("unplaced_children", "unplaced"),
        ):
            reader.shown(
                ("baseline", "ward", r.ward_code, m),
                optimiser.disclosure.publish_count(getattr(r, col)),
            )
        reader.sums(
            ("baseline", "ward", r.ward_code, "demand"),
            [
                ("baseline", "ward", r.ward_code, "placed"),
                ("baseline", "ward", r.ward_code, "unplaced"),
            ],
        )
    assert attack(reader, truth), "primary suppression alone should let ward counts be narrowed"


def test_publish_workbook_recovers_nothing(default_ds, compared, books):
    reader = Reader()
    read_workbook(reader, books[0], options=[compared.kpis.columns[1]])
    truth = truth_of(
        default_ds,
        {
            "baseline": compared.results["baseline"],
            compared.kpis.columns[1]: compared.results[compared.kpis.columns[1]],
        },
    )
    assert not attack(reader, truth)


def test_two_runs_with_different_options_cannot_be_differenced(default_ds, compared, books):
    """Baseline sheets agree byte for byte in value; both files attacked together leak nothing."""
    a, b = (openpyxl.load_workbook(p, read_only=True) for p in books)
    for sheet in ("Summary", "Sufficiency", "Wards", "INMSS", "Transport", "Unplaced"):
        assert rows(a, sheet) == rows(b, sheet), sheet
    names = list(compared.kpis.columns[1:])
    reader = Reader()
    read_workbook(reader, books[0], options=[names[0]])
    read_workbook(reader, books[1], options=[names[1]])
    assert not attack(reader, truth_of(default_ds, compared.results))


def test_workbook_map_and_pack_together_recover_nothing(default_ds, compared, books):
    """The same figures everywhere: the map and the pack add nothing a reader can use."""
    res = compared.results["baseline"]
    options = {k: v for k, v in compared.results.items() if k != "baseline"}
    release = release_for(default_ds, res, options)
    page = render_html(
        map_allocation(default_ds, res, publish=True, compare=options, release=release)
    )
    summary = summary_html(default_ds, res, release)
    reader = Reader()
    info = read_workbook(reader, books[0], options=[next(iter(options))])
    read_map(reader, page, default_ds, info["wards"], list(options))
    # the pack's ward table shows the same figures as the workbook's Wards sheet
    book = openpyxl.load_workbook(books[0], read_only=True)
    for r in rows(book, "Wards"):
        name = re.escape(html.escape(r["ward_name"]))
        cells = re.search(rf"<tr><td>{name}</td>(.*?)</tr>", summary)
        assert cells, r["ward_name"]
        shown = re.findall(r"<td class=n>(.*?)</td>", cells.group(1))
        assert shown[0].replace(",", "") == str(r["demand_children"])
        assert shown[1].replace(",", "") == str(r["placed_children"])
        assert shown[2].replace(",", "") == str(r["inmss_children"])
    assert not attack(reader, truth_of(default_ds, compared.results))


def test_no_publish_workbook_cell_holds_1_to_7_or_unrounded_count(books):
    for path in books:
        book = openpyxl.load_workbook(path, read_only=True)
        for sheet in book.sheetnames:
            for r in rows(book, sheet):
                for col, v in r.items():
                    if str(col).endswith("_children") or str(col) in ("value",):
                        if isinstance(v, (int, float)) and str(col).endswith("_children"):
                            assert v == 0 or (v > 7 and v % 5 == 0), (sheet, col, v)


@pytest.mark.parametrize(("share", "seed"), [(0.2, 1), (0.5, 2)])
def test_small_areas_recover_nothing(default_ds, tmp_path, share, seed):
    """A fifth or half of the cohort: small counts everywhere, still nothing recovered."""
    kids = default_ds.children.sample(frac=share, random_state=seed).sort_index()
    ds = default_ds.replace(children=kids.reset_index(drop=True))
    path = write_workbook(ds, tmp_path / "pub.xlsx", years=0, publish=True)
    reader = Reader()
    read_workbook(reader, path, options=[])
    res = optimiser.allocate(ds)
    assert not attack(reader, truth_of(ds, {"baseline": res}))


def test_a_release_that_leaks_is_never_written(default_ds, tmp_path, monkeypatch):
    """Fail closed: if protection fell short, the audit refuses and no file appears."""
    import optimiser.reports.release as release

    monkeypatch.setattr(release, "secondary_suppression", lambda v, r, s, **k: s)
    out = tmp_path / "pub.xlsx"
    with pytest.raises(optimiser.OptimiserError, match="would disclose"):
        write_workbook(default_ds, out, years=0, publish=True)
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_publish_unplaced_reasons_carry_no_childs_numbers(books):
    """Reasons name a category; a child's age, journey cap or nearest journey never appears."""
    book = openpyxl.load_workbook(books[0], read_only=True)
    reasons = {r["reason"] for r in rows(book, "Unplaced")}
    assert reasons
    assert all(not re.search(r"\d", str(r)) for r in reasons), reasons


def _gbp(value) -> float | None:
    """'£43,605,200' → 43605200.0; 'c' (or blank) → None."""
    text = str(value).replace("£", "").replace(",", "").strip()
    return None if text in ("c", "", "None") else float(text)


def read_costs(reader: Reader, path: Path, rates) -> None:
    """What the Summary's £ say about the unplaced count, to a reader who knows the rates.

    Every unplaced child costs a public rate (policy, or the published fees + transport),
    so total − place − transport = the unplaced £ ∈ [n × min rate, n × max rate] would
    bound the count n: each £ figure rounded to £100, so ± £50 each.
    """
    book = openpyxl.load_workbook(path, read_only=True)
    by = {str(r["measure"]).strip(): r["value"] for r in rows(book, "Summary")}
    total = _gbp(by["total cost a year (place + transport + unplaced)"])
    place, transport = _gbp(by["place cost"]), _gbp(by["transport cost"])
    unplaced_gbp = _gbp(by["unplaced children's cost (INMSS proxy)"])
    lo_rate, hi_rate = (
        float(rates["unplaced_cost_gbp"].min()),
        float(rates["unplaced_cost_gbp"].max()),
    )
    n = reader.var(("baseline", "la", "", "unplaced"))
    if total is not None and place is not None and transport is not None:
        cost_lo, cost_hi = total - place - transport - 150, total - place - transport + 150
        reader.lo[n] = max(reader.lo[n], cost_lo / hi_rate)
        reader.hi[n] = min(reader.hi[n], cost_hi / lo_rate)
    if unplaced_gbp is not None and by["children without a suitable place"] == "c":
        reader.lo[n] = max(reader.lo[n], (unplaced_gbp - 50) / hi_rate)
        reader.hi[n] = min(reader.hi[n], (unplaced_gbp + 50) / lo_rate)


def test_total_cost_gives_no_suppressed_unplaced_count_away(default_ds, compared, books):
    """Unplaced children are costed in total_cost_gbp at a known rate each: with their count
    suppressed (2 on the default data → "c"), total − place − transport would give it back.
    The publish rule: the unplaced £ only beside a published count, the total only as the
    sum of its published parts ("c" when one is)."""
    res = compared.results["baseline"]
    assert 1 <= res.kpis["unplaced_children"] <= 7  # the case under attack
    book = openpyxl.load_workbook(books[0], read_only=True)
    by = {str(r["measure"]).strip(): r["value"] for r in rows(book, "Summary")}
    assert by["children without a suitable place"] == "c"
    assert by["total cost a year (place + transport + unplaced)"] == "c"
    assert by["unplaced children's cost (INMSS proxy)"] == "c"
    reader = Reader()
    read_workbook(reader, books[0], options=[compared.kpis.columns[1]])
    read_costs(reader, books[0], res.unplaced_rates)
    truth = truth_of(
        default_ds,
        {"baseline": res, compared.kpis.columns[1]: compared.results[compared.kpis.columns[1]]},
    )
    assert not attack(reader, truth)


def test_the_cost_attack_is_not_vacuous(default_ds, compared, tmp_path, monkeypatch):
    """Had the total been published rounded, as the other £ are, the count would be pinned."""
    import optimiser.reports.published as published

    def naive_total(place, transport, unplaced):
        return published.round_gbp(compared.results["baseline"].kpis["total_cost_gbp"], 100)

    monkeypatch.setattr(published.Release, "total_cost", staticmethod(naive_total))
    path = write_workbook(default_ds, tmp_path / "naive.xlsx", years=0, publish=True)
    reader = Reader()
    read_workbook(reader, path, options=[])
    read_costs(reader, path, compared.results["baseline"].unplaced_rates)
    assert attack(reader, truth_of(default_ds, {"baseline": compared.results["baseline"]}))
