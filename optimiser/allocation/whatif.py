"""What-if re-solves of one allocation: force a child into a setting, or add one place.

Both :mod:`~optimiser.allocation.explain` and :mod:`~optimiser.allocation.preferences`
ask "what would it cost if ..." of the exact optimum. :class:`WhatIf` holds the
arcs and the flow network of :mod:`~optimiser.allocation.network` once and
re-solves it with one change, exactly (the same min-cost flow):

* :meth:`WhatIf.force` places child i on arc k first (its supply leaves the
  network and one place comes off the arc's (setting, package) and setting
  capacities, as for a continuing child), then places everyone else at least cost;
* :meth:`WhatIf.add_place` adds one place at a (setting, package) and re-solves
  with a bonus on child i's arcs, so the extra place goes to placing child i if
  it can (directly, or by letting another child move into it).

Each answer is a :class:`Outcome`: the change in place + transport money of
the whole allocation [GBP/yr], the change in the model objective, how many
other children change setting, and whether anyone is left unplaced.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from optimiser._solver.flow import solve_min_cost_flow
from optimiser.allocation.arcs import build_arcs, child_frame
from optimiser.allocation.network import FlowNetwork, build_flow_network
from optimiser.dataset.model import Dataset


@dataclass(frozen=True)
class Outcome:
    """One what-if against the optimum (money = place + transport) [GBP/yr]."""

    possible: bool  # False when every place on the path is held by continuing children
    child_placed: bool = False
    money_delta_gbp: float = float("nan")
    objective_delta: float = float("nan")
    others_moved: int = 0  # other children whose setting changes (including to unplaced)
    others_unplaced: int = 0  # other children placed in the optimum, left unplaced here
    others_lower_ranked: int = 0  # other children moved to a setting their parent ranked lower
    others_lose_mainstream: int = 0  # others moved out of the mainstream their parent prefers


class WhatIf:
    """The optimum of ``ds`` (Policy as given) and exact re-solves around it.

    Attributes
    ----------
    kids, arcs : :func:`~optimiser.allocation.arcs.child_frame` and
        :func:`~optimiser.allocation.arcs.build_arcs` of ``ds``.
    net : the flow network; ``free`` the arc rows of its choice arcs, in order.
    setting_of : arc row → the setting position each child is placed at (−1 unplaced).
    """

    def __init__(self, ds: Dataset) -> None:
        self.ds = ds
        self.kids = child_frame(ds)
        self.arcs = build_arcs(ds, self.kids)
        self.net: FlowNetwork = build_flow_network(ds, self.arcs, self.kids)
        self.free = np.flatnonzero(~self.arcs["fixed"].to_numpy(bool))
        self.money = (self.arcs["place_cost_gbp"] + self.arcs["transport_cost_gbp"]).to_numpy(float)
        self.sink = len(self.net.supply) - 1
        # every node but a child has one outgoing arc: (setting, package) → setting → sink/G
        self._out = np.full(len(self.net.supply), -1, np.int64)
        self._out[self.net.tail[self.net.n_choice :]] = np.arange(
            self.net.n_choice, len(self.net.tail)
        )
        self.base = self._solve(self.net.capacity, self.net.supply, self.net.cost)

    # ------------------------------------------------------------------ solving
    def _solve(self, capacity: np.ndarray, supply: np.ndarray, cost: np.ndarray) -> np.ndarray:
        """Arc row chosen for each child (−1 when unplaced), for the free children."""
        net = self.net
        flow = solve_min_cost_flow(net.tail, net.head, capacity, cost, supply, max_flow=True).flow
        rows = self.free[flow[: net.n_choice] > 0]
        chosen = np.full(len(self.kids), -1, np.int64)
        chosen[self.arcs["c"].to_numpy()[rows]] = rows
        fixed = np.flatnonzero(self.arcs["fixed"].to_numpy(bool))
        chosen[self.arcs["c"].to_numpy()[fixed]] = fixed
        return chosen

    def path(self, row: int) -> list[int]:
        """Network arcs from a choice arc's (setting, package) node to the sink (capacities)."""
        node, out = int(self.net.head[self.choice_arc(row)]), []
        while node != self.sink:
            arc = int(self._out[node])
            out.append(arc)
            node = int(self.net.head[arc])
        return out

    def choice_arc(self, row: int) -> int:
        """Index in the network of the choice arc of arc row ``row`` (a free arc)."""
        return int(np.searchsorted(self.free, row))

    def _outcome(self, chosen: np.ndarray, child: int, extra_row: int | None) -> Outcome:
        base = self.base
        placed = chosen >= 0
        money = self.money[chosen[placed]].sum()
        cost = self.arcs["arc_cost"].to_numpy(float)
        objective = cost[chosen[placed]].sum()
        if extra_row is not None:
            money += self.money[extra_row]
            objective += cost[extra_row]
        b = base >= 0
        other = np.arange(len(base)) != child
        moved = (chosen != base) & other
        return Outcome(
            possible=True,
            child_placed=extra_row is not None or bool(placed[child]),
            money_delta_gbp=float(money - self.money[base[b]].sum()),
            objective_delta=float(objective - cost[base[b]].sum()),
            others_moved=int(moved.sum()),
            others_unplaced=int((b & ~placed & other).sum()),
            others_lower_ranked=int(
                (moved & placed & (self._rank(chosen) > self._rank(base))).sum()
            ),
            others_lose_mainstream=int((moved & (self._duty(base) < self._duty(chosen))).sum()),
        )

    def _rank(self, chosen: np.ndarray) -> np.ndarray:
        """Preference rank of each child's setting (inf: unranked or unplaced)."""
        rank = self.arcs["preference_rank"].to_numpy(float)[np.maximum(chosen, 0)]
        return np.where((chosen >= 0) & ~np.isnan(rank), rank, np.inf)

    def _duty(self, chosen: np.ndarray) -> np.ndarray:
        """Mainstream-duty term of each child's setting (0 when unplaced)."""
        duty = self.arcs["duty_term_gbp"].to_numpy(float)[np.maximum(chosen, 0)]
        return np.where(chosen >= 0, duty, 0.0)

    # ------------------------------------------------------------------ what-ifs
    def force(self, child: int, row: int) -> Outcome:
        """Child position ``child`` placed on arc row ``row`` first; the rest re-placed.

        Not possible when no place on the arc's path is left free of continuing children.
        """
        capacity = self.net.capacity.copy()
        path = self.path(row)
        if (capacity[path] < 1).any():
            return Outcome(possible=False)
        capacity[path] -= 1
        supply = self.net.supply.copy()
        supply[child] = 0
        supply[self.sink] += 1
        chosen = self._solve(capacity, supply, self.net.cost)
        chosen[child] = -1
        return self._outcome(chosen, child, row)

    def add_place(self, child: int, row: int) -> Outcome:
        """One more place on arc row ``row``'s (setting, package) and setting; child favoured.

        The child's arcs get a bonus larger than any cost difference, so the
        re-solve places them whenever the extra place makes that possible.
        """
        capacity = self.net.capacity.copy()
        capacity[self.path(row)[:2]] += 1  # package and setting places; an INMSS cap stays
        cost = self.net.cost.copy()
        mine = self.arcs["c"].to_numpy()[self.free] == child
        bonus = int(np.abs(self.net.cost).sum()) + 1
        cost[: self.net.n_choice][mine] -= bonus
        chosen = self._solve(capacity, self.net.supply, cost)
        return self._outcome(chosen, child, None)

    def left(self) -> np.ndarray:
        """Capacity left on each network arc in the optimum (places not taken)."""
        flow = np.zeros(len(self.net.tail), np.int64)
        rows = self.base[self.base >= 0]
        for row in rows[~self.arcs["fixed"].to_numpy(bool)[rows]]:
            flow[self.path(int(row))] += 1
        return self.net.capacity - flow

    def spare(self, rows: np.ndarray | None = None) -> pd.Series:
        """Whether each arc row has a spare place in the optimum (package, setting, INMSS cap).

        ``rows``: only these arc rows are looked at (default every free arc); continuing
        arcs are never spare (they are not choices).
        """
        left = self.left()
        out = np.zeros(len(self.arcs), bool)
        free = self.free if rows is None else np.intersect1d(rows, self.free)
        for row in free:
            out[row] = bool((left[self.path(int(row))] > 0).all())
        return pd.Series(out, index=self.arcs.index)
