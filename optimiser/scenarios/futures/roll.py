"""Roll one future forward year by year, for the baseline and every option, allocating exactly.

The year-on rules are the horizon's (:mod:`optimiser.scenarios.horizon`): every child a year
older; those over ``leave_age`` leave; a placed child whose setting no longer takes their
age transfers (placed again, preferences dropped), every other placed child continues
where they are, and the unplaced wait with their preferences; then new EHCPs join
(:func:`~optimiser.scenarios.horizon.new_ehcp_count`, per package at the future's growth
for that package and year, drawn by
:func:`~optimiser.scenarios.horizon.draw_joiners` from the base year's children of the
package still to place, else all its base children). Who joins and leaves does not depend
on the option, so every option meets the same children in a future (common random
numbers: the options' differences are theirs, not the sample's).

Each option × year is allocated by an :class:`~optimiser.allocation.reuse.ArcBank` of its
structure that year (the option's changes in force, a late opening shifting its change's
``from_year``), with the year's INMSS fee factor and places lost.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from optimiser.allocation.reuse import ArcBank
from optimiser.dataset.model import Dataset, derive_place_costs
from optimiser.problems import Problem, raise_problems
from optimiser.scenarios.changes import AddSetting, DemandGrowth, SetPlaces
from optimiser.scenarios.futures.sampling import FutureDraw, GrowthPrior, draw_future
from optimiser.scenarios.horizon import draw_joiners, new_ehcp_count, outgrown_mask
from optimiser.scenarios.scenario import Scenario

#: Measures kept by year × package (the last axis of :func:`roll_future`'s array).
MEASURES = (
    "demand_children",
    "places",
    "placed_children",
    "unplaced_children",
    "shortfall_children",
    "inmss_children",
    "total_cost_gbp",
)
#: Change types whose opening can be late (they add places).
CAPACITY_CHANGES = (AddSetting, SetPlaces)


def change_key(change: object) -> str:
    """A change's identity (its from_year aside): the same change in two options is one.

    So a capacity change shared by two options opens late in both, and two options with
    the same changes in force share an arc bank.
    """
    dump = change.model_dump_json(exclude={"from_year"})  # type: ignore[attr-defined]
    return f"{type(change).__name__}:{dump}"


class FuturesModel:
    """Everything a worker needs to roll futures: data, options, prior; banks built lazily.

    Pickled once to each worker (the banks are not pickled: each process builds its own,
    and a bank's answers do not depend on what it built before).
    """

    def __init__(
        self,
        ds: Dataset,
        scenarios: list[Scenario],
        *,
        years: int,
        seed: int,
        prior: GrowthPrior,
    ) -> None:
        for sc in scenarios:
            for i, ch in enumerate(sc.changes, 1):
                if isinstance(ch, DemandGrowth):
                    raise_problems(
                        [
                            Problem(
                                sc.source,
                                None,
                                f"change {i} (demand_growth)",
                                "a demand_growth change",
                                "settings, places, fees or policy changes",
                                "futures sample demand themselves (policy futures); "
                                "remove the demand_growth change from this option",
                            )
                        ]
                    )
        self.ds = ds
        self.scenarios = list(scenarios)
        self.names = ["baseline", *[sc.name for sc in scenarios]]
        self.years = years
        self.seed = seed
        self.prior = prior
        self.policy = ds.policy.futures
        ids = list(ds.settings["setting_id"].astype(str))
        ages = list(ds.settings["age_max"].astype(float))
        for sc in scenarios:
            for ch in sc.changes:
                if isinstance(ch, AddSetting) and ch.setting_id not in ids:
                    ids.append(ch.setting_id)
                    ages.append(float(ch.age_max))
        self.setting_ids = pd.Index(ids)
        self.age_max = np.asarray([*ages, np.nan], float)  # index −1: no setting
        self.packages = pd.Index(ds.packages["package_id"].astype(str))
        kids = ds.children.reset_index(drop=True)
        self.base_pkg = self.packages.get_indexer(pd.Index(kids["package_id"].astype(str)))
        self.base_age = kids["age"].fillna(0).astype(int).to_numpy()
        current = kids["current_setting_id"].fillna("").astype(str)
        self.base_cur = np.where(current != "", self.setting_ids.get_indexer(pd.Index(current)), -1)
        to_place = (current == "").to_numpy()
        self.pools: list[tuple[np.ndarray, int]] = []  # per package: templates, prefs kept
        for k in range(len(self.packages)):
            joiners = np.flatnonzero(to_place & (self.base_pkg == k))
            if len(joiners):
                self.pools.append((joiners, 1))
            else:
                self.pools.append((np.flatnonzero(self.base_pkg == k), 0))
        self.delay_keys = tuple(
            sorted(
                {
                    change_key(ch)
                    for sc in scenarios
                    for ch in sc.changes
                    if isinstance(ch, CAPACITY_CHANGES)
                }
            )
        )
        self._banks: dict[tuple[str, ...], ArcBank] = {}

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_banks"] = {}
        return state

    def draw(self, index: int) -> FutureDraw:
        """Future ``index``'s sampled inputs."""
        return draw_future(
            self.seed,
            index,
            years=self.years,
            n_packages=len(self.packages),
            n_settings=len(self.setting_ids),
            delay_keys=self.delay_keys,
            prior=self.prior,
            policy=self.policy,
        )

    def active(self, option: int, year: int, delay: dict[str, int]) -> tuple[int, ...]:
        """Positions of the option's changes in force in ``year`` (late openings shifted)."""
        if option == 0:
            return ()
        sc = self.scenarios[option - 1]
        return tuple(
            i
            for i, ch in enumerate(sc.changes)
            if ch.from_year
            + (delay.get(change_key(ch), 0) if isinstance(ch, CAPACITY_CHANGES) else 0)
            <= year
        )

    def bank(self, option: int, active: tuple[int, ...]) -> ArcBank:
        """The bank of the option with the changes ``active`` in force (built once).

        Banks are shared by identity of the changes in force: the baseline, an option
        none of whose changes is in force yet, and two options with the same changes in
        force (one extending the other) use one bank.
        """
        changes = (
            () if option == 0 else tuple(self.scenarios[option - 1].changes[i] for i in active)
        )
        key = tuple(change_key(ch) for ch in changes)
        if key not in self._banks:
            ds = self.ds
            if changes:
                sc = self.scenarios[option - 1]
                only = Scenario(
                    name=sc.name,
                    changes=tuple(ch.model_copy(update={"from_year": 0}) for ch in changes),
                    seed=sc.seed,
                    source=sc.source,
                )
                ds = only.apply(self.ds)
            ds = ds.replace(places=derive_place_costs(ds))
            self._banks[key] = ArcBank(ds, self.setting_ids)
        return self._banks[key]


@dataclass(frozen=True)
class _Year:
    """Who is there in a year of a future: survivors of last year, then the new EHCPs."""

    survivors: np.ndarray  # positions in last year's cohort
    template: np.ndarray
    age: np.ndarray
    new_prefs: np.ndarray  # preferences kept, for the new EHCPs
    n_new: int


def _demand_path(model: FuturesModel, draw: FutureDraw) -> list[_Year]:
    """The cohort of each year 1 … years (the same for every option)."""
    t, age = np.arange(len(model.base_age)), model.base_age.copy()
    pkg = model.base_pkg
    out = []
    for year in range(1, model.years + 1):
        before = np.bincount(pkg[pkg >= 0], minlength=len(model.packages))
        age = age + 1
        survivors = np.flatnonzero(age <= model.policy.leave_age)
        spkg = pkg[survivors]
        staying = np.bincount(spkg[spkg >= 0], minlength=len(model.packages))
        new_t, new_p = [], []
        for k, (pool, kept) in enumerate(model.pools):
            n = new_ehcp_count(int(before[k]), float(draw.growth[year, k]), int(staying[k]))
            picks = draw_joiners(len(pool), n, draw.rng)
            new_t.append(pool[picks])
            new_p.append(np.full(len(picks), kept, np.int64))
        nt = np.concatenate(new_t).astype(np.int64)
        t = np.concatenate([t[survivors], nt])
        age = np.concatenate([age[survivors], model.base_age[nt]])
        pkg = model.base_pkg[t]
        out.append(_Year(survivors, t, age, np.concatenate(new_p), len(nt)))
    return out


def roll_future(model: FuturesModel, index: int) -> np.ndarray:
    """Future ``index`` rolled for every option: array (options, years + 1, packages, MEASURES)."""
    draw = model.draw(index)
    path = _demand_path(model, draw)
    _prebuild(model, draw, path)
    n_pkg = len(model.packages)
    out = np.zeros((len(model.names), model.years + 1, n_pkg, len(MEASURES)))
    for option in range(len(model.names)):
        t, age = np.arange(len(model.base_age)), model.base_age
        prefs = np.ones(len(t), np.int64)
        cur = model.base_cur
        setting = np.zeros(0, np.int64)  # last year's placements (set in year 0)
        for year in range(model.years + 1):
            if year:
                step = path[year - 1]
                kept = setting[step.survivors]
                kept_prefs = prefs[step.survivors]
                gone = (kept >= 0) & outgrown_mask(step.age[: len(kept)], model.age_max[kept])
                cur = np.concatenate([np.where(gone, -1, kept), np.full(step.n_new, -1)])
                prefs = np.concatenate([np.where(gone, 0, kept_prefs), step.new_prefs])
                t, age = step.template, step.age
            bank = model.bank(option, model.active(option, year, draw.delay))
            lost = np.floor(bank.row_places * draw.lost_share[year][bank.row_setting_global])
            sol = bank.solve(
                t, age, prefs, cur, inmss_factor=draw.inmss_factor[year], places_lost=lost
            )
            setting = sol.setting
            out[option, year] = _by_package(sol, bank.places_by_package(lost), n_pkg)
    return out


def _prebuild(model: FuturesModel, draw: FutureDraw, path: list[_Year]) -> None:
    """Bank every key this future can need that is known ahead, one pass per bank.

    The children of each year, to place (with and without their preferences), and the
    base year's continuing children at their own settings; keys of children continuing
    where this future's allocations put them are banked as they arise (from these).
    """
    n_base = len(model.base_age)
    wanted: dict[int, tuple[ArcBank, list[tuple[np.ndarray, ...]]]] = {}
    original = [np.arange(n_base)]  # positions, in each year's cohort, of base children
    for step in path:
        kept = np.flatnonzero(np.isin(step.survivors, original[-1]))
        original.append(kept)
    for option in range(len(model.names)):
        for year in range(model.years + 1):
            bank = model.bank(option, model.active(option, year, draw.delay))
            t = np.arange(n_base) if year == 0 else path[year - 1].template
            age = model.base_age if year == 0 else path[year - 1].age
            none = np.full(len(t), -1)
            orig = original[year]
            cur = model.base_cur[t[orig]]
            parts: list[tuple[np.ndarray, ...]] = [
                (t, age, np.ones(len(t), np.int64), none),
                (t, age, np.zeros(len(t), np.int64), none),
                (t[orig], age[orig], np.ones(len(orig), np.int64), cur),
            ]
            wanted.setdefault(id(bank), (bank, []))[1].extend(parts)
    for bank, todo in wanted.values():
        bank.prebuild(*(np.concatenate(col) for col in zip(*todo, strict=True)))


def _by_package(sol, places: np.ndarray, n_pkg: int) -> np.ndarray:
    """The year's MEASURES by package."""
    pkg = sol.package
    ok = pkg >= 0
    placed = (sol.setting >= 0) & ok
    unplaced = (sol.setting < 0) & ok

    def count(mask: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        w = None if weights is None else weights[mask]
        return np.bincount(pkg[mask], weights=w, minlength=n_pkg).astype(float)

    demand = count(ok)
    cost = sol.place_gbp + sol.transport_gbp + sol.unplaced_gbp
    return np.column_stack(
        [
            demand,
            places,
            count(placed),
            count(unplaced),
            np.maximum(demand - places, 0.0),
            count(placed & sol.inmss),
            count(ok, cost),
        ]
    )
