"""Allocation with reused arcs: many allocations of one dataset structure, each cheap and exact.

A multi-year, many-futures run allocates thousands of cohorts against the same settings,
places and policy (a *structure*). The children differ, but each one is a copy of a
*template* child of the base data (themselves, or the base child a new EHCP was drawn
from) at some age, with or without their parents' ranked preferences, continuing at a
setting or not. Their arcs, and every cost term but the mainstream-duty weight, depend on
that *key* alone, so an :class:`ArcBank` builds each key's arcs once with
:func:`optimiser.allocation.arcs.build_arcs` (the same code :func:`~.solve.allocate` uses)
and a year's allocation only gathers them and solves the flow.

Exactness. :meth:`ArcBank.solve` builds the min-cost flow of
:mod:`optimiser.allocation.network` (choice arcs; places by setting × package; total
places by setting; the INMSS cap; continuing children's places taken first) over all the
structure's places rows and settings (a row no child can use carries no flow), recomputes
the mainstream-duty weight W over the year's children being placed exactly as
:func:`~.arcs.duty_terms` does, and solves with
:func:`optimiser._solver.flow.solve_min_cost_flow` (maximum flow at least cost). The
objective is therefore the one :func:`~.solve.allocate` finds for the same children
(``tests/test_futures.py`` checks this); among tied optima the chosen placements may differ.

Two year-to-year changes are applied without new arcs: a factor on every INMSS fee
(place cost × factor on INMSS arcs, as if the fees in ``places.csv`` were scaled) and
places lost by places row (capacity only).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from optimiser._solver.flow import solve_min_cost_flow
from optimiser.allocation.arcs import build_arcs, child_frame
from optimiser.allocation.unplaced_cost import unplaced_rates
from optimiser.dataset.model import Dataset
from optimiser.schema.tables import INMSS_TYPES

#: Phases in code order (0, 1, 2), as the policy names them.
PHASE_CODES = ("primary", "secondary", "post16")
#: Oldest age a key can hold (ages are 0 … MAX_AGE - 1).
MAX_AGE = 64


@dataclass(frozen=True)
class YearSolution:
    """One allocation of a cohort by :meth:`ArcBank.solve`, child by child (input order).

    Attributes
    ----------
    setting : global setting index of each child's placement (−1 unplaced).
    place_gbp, transport_gbp : each placed child's place and transport cost [GBP/yr] (0
        when unplaced).
    inmss : whether each child is placed at an INMSS setting.
    unplaced_gbp : each unplaced child's cost at the unplaced rate [GBP/yr] (0 when placed).
    package : package code of each child (position in ``ds.packages``; −1 unknown).
    objective : Σ arc_cost over placements + P × unplaced, as ``allocate`` reports it.
    total_cost_gbp : place + transport + unplaced cost [GBP/yr] (``kpis["total_cost_gbp"]``).
    """

    setting: np.ndarray
    place_gbp: np.ndarray
    transport_gbp: np.ndarray
    inmss: np.ndarray
    unplaced_gbp: np.ndarray
    package: np.ndarray
    objective: float
    total_cost_gbp: float


class ArcBank:
    """Arcs of child keys against one structure, built on demand and kept.

    Parameters
    ----------
    ds : the structure (settings, places with their derived costs, policy); its children
        are the templates keys refer to by position.
    setting_ids : the global setting index (every setting id of every structure in the
        run, in a fixed order); keys and results name settings by position in it.

    Notes
    -----
    A key is (template, age, prefs, current): ``prefs`` 1 keeps the template's ranked
    preferences, 0 drops them (a phase transfer); ``current`` is the global index of the
    setting the child continues at, −1 for none. Not thread-safe (one bank per process).
    """

    def __init__(self, ds: Dataset, setting_ids: pd.Index) -> None:
        self.ds = ds
        self.setting_ids = setting_ids
        self.templates = ds.children.reset_index(drop=True)
        settings = ds.settings.reset_index(drop=True)
        places = ds.places.reset_index(drop=True)
        self._n_global = len(setting_ids) + 1
        self._packages = pd.Index(ds.packages["package_id"].astype(str))
        self._tpl_prefs = np.fromiter(
            (len(p) > 0 for p in self.templates["preferences"]), np.int64, len(self.templates)
        )
        self._keep = ds.policy.continuity == "keep"
        self._closed = settings["closed"].to_numpy(bool)
        self._tpl_pkg = self._packages.get_indexer(
            pd.Index(self.templates["package_id"].astype(str))
        )
        # structure positions of the global settings (−1 where the structure lacks one)
        self._spos = pd.Index(settings["setting_id"]).get_indexer(setting_ids)
        self._sglob = setting_ids.get_indexer(pd.Index(settings["setting_id"]))
        self._setting_inmss = settings["setting_type"].isin(INMSS_TYPES).to_numpy()
        total = pd.to_numeric(settings["total_places"], errors="coerce").astype(float)
        self._total = np.nan_to_num(total.to_numpy(), nan=0.0)
        self._row_setting = pd.Index(settings["setting_id"]).get_indexer(
            pd.Index(places["setting_id"])
        )
        row_pkg = self._packages.get_indexer(pd.Index(places["package_id"].astype(str)))
        self.row_places = np.nan_to_num(places["places"].to_numpy(float, na_value=np.nan))
        open_row = (self._row_setting >= 0) & ~settings["closed"].to_numpy(bool)[
            np.maximum(self._row_setting, 0)
        ]
        self.row_open = open_row
        self.row_package = row_pkg
        self.row_setting_global = np.where(
            self._row_setting >= 0, self._sglob[np.maximum(self._row_setting, 0)], -1
        )
        # places row of (structure setting, package): the first row of a duplicate
        self._row_of = np.full((len(settings) + 1, len(self._packages) + 1), -1, np.int64)
        ok = np.flatnonzero((self._row_setting >= 0) & (row_pkg >= 0))[::-1]
        self._row_of[self._row_setting[ok], row_pkg[ok]] = ok
        rates = unplaced_rates(
            ds, ds.places.iloc[:0].assign(setting_type=[], transport_cost_gbp=[])
        )
        self._rate_policy = (rates["source"] == "policy").to_numpy()
        self._rate_value = rates["unplaced_cost_gbp"].to_numpy(float)
        self._rate_place = np.nan_to_num(rates["place_gbp"].to_numpy(float))
        rate_pkg = self._packages.get_indexer(pd.Index(rates["package_id"].astype(str)))
        rate_phase = pd.Index(PHASE_CODES).get_indexer(pd.Index(rates["phase"]))
        self._rate_index = np.full((len(self._packages) + 1, len(PHASE_CODES)), -1, np.int64)
        self._rate_index[rate_pkg, rate_phase] = np.arange(len(rates))
        self._cap = ds.policy.inmss_max_places
        # the bank: sorted keys → record; records → arc ranges and key facts
        self._keys = np.zeros(0, np.int64)
        self._rec_of_key = np.zeros(0, np.int64)
        self._start = np.zeros(0, np.int64)
        self._count = np.zeros(0, np.int64)
        self._fixed = np.zeros(0, bool)
        self._phase = np.zeros(0, np.int64)
        self._store: dict[str, np.ndarray] = {
            "setting": np.zeros(0, np.int64),
            "row": np.zeros(0, np.int64),
            "place": np.zeros(0),
            "transport": np.zeros(0),
            "penalty": np.zeros(0),
            "duty": np.zeros(0, bool),
            "inmss": np.zeros(0, bool),
            "fixed": np.zeros(0, bool),
        }
        self._arcs: dict[str, np.ndarray] = {}
        self._n_arcs = 0
        #: wall time spent in the flow solver, over every :meth:`solve` [s] (benchmarks)
        self.flow_seconds = 0.0

    # ------------------------------------------------------------------ keys

    def encode(
        self, template: np.ndarray, age: np.ndarray, prefs: np.ndarray, current: np.ndarray
    ) -> np.ndarray:
        """One int64 key per child (see the class notes)."""
        age = np.asarray(age, np.int64)
        if len(age) and (age.min() < 0 or age.max() >= MAX_AGE):
            msg = f"ages must be 0 to {MAX_AGE - 1} to be banked; found {age.min()}-{age.max()}"
            raise ValueError(msg)
        t = np.asarray(template, np.int64)
        p = np.asarray(prefs, np.int64) & self._tpl_prefs[t]  # no preferences: one key
        return ((t * MAX_AGE + age) * 2 + p) * self._n_global + (np.asarray(current) + 1)

    def _decode(self, keys: np.ndarray) -> tuple[np.ndarray, ...]:
        cur = keys % self._n_global - 1
        rest = keys // self._n_global
        return rest // 2 // MAX_AGE, rest // 2 % MAX_AGE, rest % 2, cur

    def _add(self, keys: np.ndarray) -> None:
        """Build the arcs of new ``keys`` (unique, none banked yet) in one pass."""
        if not len(keys):
            return
        t, age, prefs, cur = self._decode(keys)
        kids = self.templates.iloc[t].copy()
        kids["child_id"] = [f"K{i}" for i in range(len(keys))]
        kids["age"] = age
        kids["current_setting_id"] = np.where(
            cur >= 0, self.setting_ids.to_numpy(object)[np.maximum(cur, 0)], ""
        )
        kept = prefs.astype(bool)
        kids["preferences"] = [
            p if k else () for p, k in zip(kids["preferences"], kept, strict=True)
        ]
        ds = self.ds.replace(children=kids.reset_index(drop=True))
        frame = child_frame(ds)
        arcs = build_arcs(ds, frame)
        c = arcs["c"].to_numpy()
        count = np.bincount(c, minlength=len(keys))
        s = arcs["s"].to_numpy()
        types = self.ds.settings["setting_type"].to_numpy(object)[s]
        fixed = arcs["fixed"].to_numpy(bool)
        part = {
            "setting": self._sglob[s],
            "row": arcs["p"].to_numpy(np.int64),
            "place": arcs["place_cost_gbp"].to_numpy(float),
            "transport": arcs["transport_cost_gbp"].to_numpy(float),
            "penalty": arcs["preference_penalty_gbp"].to_numpy(float),
            # the mainstream duty's arcs (arcs.duty_terms): −W on each, W set per cohort
            "duty": frame["prefers_mainstream"].to_numpy(bool)[c]
            & arcs["mainstream"].to_numpy(bool)
            & ~fixed,
            "inmss": np.isin(types, INMSS_TYPES),
            "fixed": fixed,
        }
        phase = pd.Index(PHASE_CODES).get_indexer(pd.Index(frame["phase"].astype(str)))
        self._append(keys, part, count, frame["fixed"].to_numpy(bool), phase)

    def _append(
        self,
        keys: np.ndarray,
        part: dict[str, np.ndarray],
        count: np.ndarray,
        fixed: np.ndarray,
        phase: np.ndarray,
    ) -> None:
        """Bank ``keys`` whose arcs (``count`` each, in key order) are ``part``."""
        first = self._n_arcs + np.concatenate([[0], np.cumsum(count)[:-1]])
        end = self._n_arcs + int(count.sum())
        for k, v in part.items():  # arrays grown by doubling: appending stays cheap
            have = self._store[k]
            if len(have) < end:
                grown = np.zeros(max(end, 2 * len(have)), have.dtype)
                grown[: self._n_arcs] = have[: self._n_arcs]
                self._store[k] = grown
            self._store[k][self._n_arcs : end] = v
        self._arcs = {}
        self._n_arcs = end
        self._start = np.concatenate([self._start, first])
        self._count = np.concatenate([self._count, count])
        self._fixed = np.concatenate([self._fixed, fixed])
        self._phase = np.concatenate([self._phase, phase])
        all_keys = np.concatenate([self._keys[np.argsort(self._rec_of_key)], keys])
        order = np.argsort(all_keys, kind="stable")
        self._keys, self._rec_of_key = all_keys[order], order

    def _missing(self, keys: np.ndarray) -> np.ndarray:
        """The keys (unique) not banked yet."""
        keys = np.unique(keys)
        if not len(self._keys):
            return keys
        pos = np.minimum(np.searchsorted(self._keys, keys), len(self._keys) - 1)
        return keys[self._keys[pos] != keys]

    def prebuild(
        self, template: np.ndarray, age: np.ndarray, prefs: np.ndarray, current: np.ndarray
    ) -> None:
        """Bank these children's keys now, in one pass (a run's keys known ahead)."""
        self._bank(self._missing(self.encode(template, age, prefs, current)))

    def _bank(self, new: np.ndarray) -> None:
        """Bank ``new`` keys: continuing ones from the same child's free arcs, the rest built.

        A continuing child's one arc is the arc to their setting of the same child being
        placed (same template, age and preferences): the same place cost and transport
        (:func:`~optimiser.allocation.arcs.build_arcs` costs both by child and setting
        alone), with no preference penalty or duty term. Where that arc does not exist
        (a setting beyond the journey cap, a setting without the package's places row)
        the key is built by ``build_arcs`` itself.
        """
        if not len(new):
            return
        t, age, prefs, cur = self._decode(new)
        spos = np.where(cur >= 0, self._spos[np.maximum(cur, 0)], -1)
        derive = (cur >= 0) & self._keep & (spos >= 0)
        derive[derive] = ~self._closed[spos[derive]]
        free_keys = self.encode(t[derive], age[derive], prefs[derive], np.full(derive.sum(), -1))
        self._add(np.unique(np.concatenate([new[~derive], self._missing(free_keys)])))
        if not derive.any():
            return
        rec = self._rec_of_key[np.searchsorted(self._keys, free_keys)]
        arcs = self._arc_arrays()
        start, count = self._start[rec], self._count[rec]
        idx = np.repeat(start - np.concatenate([[0], np.cumsum(count)[:-1]]), count)
        idx = idx + np.arange(int(count.sum()))
        owner = np.repeat(np.arange(len(rec)), count)
        hit = arcs["setting"][idx] == cur[derive][owner]
        arc_of = np.full(len(rec), -1, np.int64)
        arc_of[owner[hit]] = idx[hit]
        ok = arc_of >= 0
        keys = new[derive]
        if ok.any():
            a = arc_of[ok]
            part = {k: v[a].copy() for k, v in arcs.items()}
            part["penalty"][:] = 0.0
            part["duty"][:] = False
            part["fixed"][:] = True
            phase = self._phase[rec[ok]]
            self._append(
                keys[ok], part, np.ones(int(ok.sum()), np.int64), np.ones(ok.sum(), bool), phase
            )
        if (~ok).any():
            self._add(keys[~ok])

    def _records(self, keys: np.ndarray) -> np.ndarray:
        self._bank(self._missing(keys))
        pos = np.searchsorted(self._keys, keys)
        return self._rec_of_key[pos]

    def _arc_arrays(self) -> dict[str, np.ndarray]:
        """The banked arcs' arrays (views of the first ``_n_arcs`` entries)."""
        if not self._arcs:
            self._arcs = {k: v[: self._n_arcs] for k, v in self._store.items()}
        return self._arcs

    @property
    def n_keys(self) -> int:
        """Keys banked so far."""
        return len(self._keys)

    # ----------------------------------------------------------------- solve

    def solve(
        self,
        template: np.ndarray,
        age: np.ndarray,
        prefs: np.ndarray,
        current: np.ndarray,
        *,
        inmss_factor: float = 1.0,
        places_lost: np.ndarray | None = None,
    ) -> YearSolution:
        """Allocate one cohort exactly (see the module docstring).

        Parameters
        ----------
        template, age, prefs, current : one entry per child (see the class notes).
        inmss_factor : every INMSS fee × this factor (fee inflation since the base year).
        places_lost : places lost per places row of the structure (whole places, ≥ 0);
            each comes off the row's places and its setting's total places.
        """
        n = len(template)
        rec = self._records(self.encode(template, age, prefs, current))
        arcs = self._arc_arrays()
        fixed = self._fixed[rec]
        start, count = self._start[rec], self._count[rec]
        pkg = self._tpl_pkg[np.asarray(template, np.int64)]
        lost = np.zeros(len(self.row_places)) if places_lost is None else places_lost
        row_places = np.maximum(self.row_places - lost, 0.0)
        total = (
            self._total
            - np.bincount(
                np.maximum(self._row_setting, 0), weights=lost, minlength=len(self._total)
            )[: len(self._total)]
        )
        # continuing children: their places come off first (network.residual_capacities)
        fx = np.flatnonzero(fixed)
        cur_pos = self._spos[np.asarray(current, np.int64)[fx]]
        cur_ok = cur_pos >= 0
        rows = self._row_of[cur_pos[cur_ok], np.where(pkg[fx][cur_ok] >= 0, pkg[fx][cur_ok], -1)]
        rows = rows[rows >= 0]
        row_left = np.maximum(row_places - np.bincount(rows, minlength=len(row_places)), 0.0)
        per_setting = np.bincount(cur_pos[cur_ok], minlength=len(total))
        total_left = np.maximum(total - per_setting, 0.0)
        cap = self._cap
        if cap is not None:
            cap = max(cap - int(self._setting_inmss[cur_pos[cur_ok]].sum()), 0)
        # continuing placements: the key's one arc
        fx_placed = fx[count[fx] > 0]
        fx_arc = start[fx_placed]
        # children being placed: their arcs, in child order then setting order
        free = np.flatnonzero(~fixed)
        n_arcs = count[free]
        offsets = np.concatenate([[0], np.cumsum(n_arcs)[:-1]])
        arc_idx = np.repeat(start[free] - offsets, n_arcs) + np.arange(int(n_arcs.sum()))
        tail = np.repeat(np.arange(len(free)), n_arcs)
        factor = np.where(arcs["inmss"], inmss_factor, 1.0)
        place = arcs["place"] * factor if inmss_factor != 1.0 else arcs["place"]
        base = place[arc_idx] + arcs["transport"][arc_idx] + arcs["penalty"][arc_idx]
        weight = self._duty_weight(base, tail, self.ds.policy.mainstream_duty_gbp)
        cost = np.rint(base + np.where(arcs["duty"][arc_idx], -weight, 0.0)).astype(np.int64)
        setting = np.full(n, -1, np.int64)
        chosen = self._flow(tail, arcs["row"][arc_idx], cost, len(free), row_left, total_left, cap)
        placed_free = free[tail[chosen]]
        placed_arc = arc_idx[chosen]
        who = np.concatenate([fx_placed, placed_free])
        arc_of = np.concatenate([fx_arc, placed_arc])
        setting[who] = arcs["setting"][arc_of]
        place_gbp = np.zeros(n)
        transport_gbp = np.zeros(n)
        inmss = np.zeros(n, bool)
        place_gbp[who] = place[arc_of]
        transport_gbp[who] = arcs["transport"][arc_of]
        inmss[who] = arcs["inmss"][arc_of]
        fixed_cost = np.rint(place[fx_arc] + arcs["transport"][fx_arc] + 0.0)
        all_max = max(
            float(cost.max()) if len(cost) else -np.inf,
            float(fixed_cost.max()) if len(fixed_cost) else -np.inf,
        )
        penalty = max(
            self.ds.policy.unplaced_penalty_gbp, all_max + 1.0 if np.isfinite(all_max) else 0.0
        )
        unplaced = setting < 0
        objective = float(fixed_cost.sum() + cost[chosen].sum() + unplaced.sum() * penalty)
        unplaced_gbp = self._unplaced_costs(
            unplaced, pkg, self._phase[rec], inmss, transport_gbp, inmss_factor
        )
        total_cost = float(place_gbp.sum()) + float(transport_gbp.sum()) + float(unplaced_gbp.sum())
        return YearSolution(
            setting, place_gbp, transport_gbp, inmss, unplaced_gbp, pkg, objective, total_cost
        )

    @staticmethod
    def _duty_weight(base: np.ndarray, tail: np.ndarray, floor_gbp: float) -> float:
        """W of :func:`~optimiser.allocation.arcs.duty_terms` for the children being placed.

        W = max(``floor_gbp``, ⌈Σ_i max(M_i, 0)⌉ + 1), M_i the largest cost but the duty
        over child i's arcs [GBP/yr].
        """
        if not len(base):
            return max(float(floor_gbp), 1.0)
        starts = np.flatnonzero(np.concatenate([[True], tail[1:] != tail[:-1]]))
        largest = np.maximum(np.maximum.reduceat(base, starts), 0.0)
        return max(float(floor_gbp), float(np.ceil(largest.sum())) + 1.0)

    def _flow(
        self,
        tail: np.ndarray,
        row: np.ndarray,
        cost: np.ndarray,
        n_free: int,
        row_left: np.ndarray,
        total_left: np.ndarray,
        cap: int | None,
    ) -> np.ndarray:
        """Positions of the choice arcs carrying flow (the free children's placements)."""
        n_rows, n_set = len(row_left), len(total_left)
        q0, s0 = n_free, n_free + n_rows
        group, sink = s0 + n_set, s0 + n_set + 1
        inmss = self._setting_inmss if cap is not None else np.zeros(n_set, bool)
        row_setting = np.maximum(self._row_setting, 0)
        heads = np.concatenate([q0 + row, s0 + row_setting, np.where(inmss, group, sink), [sink]])
        tails = np.concatenate([tail, q0 + np.arange(n_rows), s0 + np.arange(n_set), [group]])
        caps = np.concatenate([np.ones(len(tail)), row_left, total_left, [cap or 0]]).astype(
            np.int64
        )
        costs = np.concatenate([cost, np.zeros(n_rows + n_set + 1, np.int64)])
        supply = np.zeros(sink + 1, np.int64)
        supply[:n_free] = 1
        supply[sink] = -n_free
        t = time.perf_counter()
        flow = solve_min_cost_flow(tails, heads, caps, costs, supply, max_flow=True).flow
        self.flow_seconds += time.perf_counter() - t
        return np.flatnonzero(flow[: len(tail)] > 0)

    def _unplaced_costs(
        self,
        unplaced: np.ndarray,
        pkg: np.ndarray,
        phase: np.ndarray,
        inmss: np.ndarray,
        transport: np.ndarray,
        inmss_factor: float,
    ) -> np.ndarray:
        """Each unplaced child's rate (:mod:`~optimiser.allocation.unplaced_cost`) [GBP/yr]."""
        out = np.zeros(len(unplaced))
        if not unplaced.any():
            return out
        placed = ~unplaced
        pool = transport[inmss & placed] if (inmss & placed).any() else transport[placed]
        mean_transport = float(pool.mean()) if len(pool) else 0.0
        idx = self._rate_index[pkg[unplaced], np.maximum(phase[unplaced], 0)]
        known = idx >= 0
        rate = np.where(
            self._rate_policy[idx],
            self._rate_value[idx],
            self._rate_place[idx] * inmss_factor + mean_transport,
        )
        out[np.flatnonzero(unplaced)] = np.where(known, rate, 0.0)
        return out

    def places_by_package(self, places_lost: np.ndarray | None = None) -> np.ndarray:
        """Open places per package (``ds.packages`` order), after any places lost."""
        lost = np.zeros(len(self.row_places)) if places_lost is None else places_lost
        left = np.maximum(self.row_places - lost, 0.0)
        ok = self.row_open & (self.row_package >= 0)
        return np.bincount(self.row_package[ok], weights=left[ok], minlength=len(self._packages))
