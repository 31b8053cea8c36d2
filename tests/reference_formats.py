"""Readers for the public facility-location benchmark formats used in the tests.

Both formats are read as a stream of whitespace-separated tokens (line wrapping
varies between instances); see ``tests/data/reference/README.md``.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REFERENCE_DIR = Path(__file__).parent / "data" / "reference"


@dataclass(frozen=True)
class FacilityInstance:
    """A facility-location instance as plain arrays.

    Attributes
    ----------
    name : str
        Instance name, e.g. ``"cap41"``.
    fixed_cost : numpy.ndarray
        Fixed cost of opening each facility, shape (m,).
    capacity : numpy.ndarray
        Capacity of each facility, shape (m,).
    demand : numpy.ndarray
        Demand of each customer, shape (n,).
    assign_cost : numpy.ndarray
        Cost of serving all of customer j's demand from facility i, shape (m, n).
    """

    name: str
    fixed_cost: np.ndarray
    capacity: np.ndarray
    demand: np.ndarray
    assign_cost: np.ndarray


def _tokens(path: Path) -> list[str]:
    # Holmberg files end in a run of NUL bytes; str.split() does not treat NUL as space.
    text = path.read_bytes().replace(b"\x00", b" ").decode("ascii")
    return text.split()


def read_orlib_cap(path: Path | str, *, capacity: float | None = None) -> FacilityInstance:
    """Read an OR-Library capacitated warehouse location file (cap41 .. capc).

    Token order: ``m n``, then m pairs ``capacity_i fixed_cost_i``, then n blocks
    ``demand_j c_1j .. c_mj`` (customer-major costs).

    Parameters
    ----------
    path : pathlib.Path or str
        The instance file.
    capacity : float, optional
        Value substituted for the literal word ``capacity`` (capa/capb/capc), and
        required for those files.

    Returns
    -------
    FacilityInstance
    """
    path = Path(path)
    tok = _tokens(path)
    m, n = int(tok[0]), int(tok[1])
    pos = 2
    cap = np.empty(m)
    fixed = np.empty(m)
    for i in range(m):
        raw_cap = tok[pos]
        if raw_cap == "capacity":
            if capacity is None:
                msg = f"{path.name} has symbolic capacities; pass capacity=<value>."
                raise ValueError(msg)
            cap[i] = capacity
        else:
            cap[i] = float(raw_cap)
        fixed[i] = float(tok[pos + 1])
        pos += 2
    demand = np.empty(n)
    cost = np.empty((m, n))
    for j in range(n):
        demand[j] = float(tok[pos])
        cost[:, j] = [float(t) for t in tok[pos + 1 : pos + 1 + m]]
        pos += 1 + m
    if pos != len(tok):
        msg = f"{path.name}: {len(tok) - pos} unread tokens after the cost blocks."
        raise ValueError(msg)
    return FacilityInstance(path.stem, fixed, cap, demand, cost)


def read_holmberg(path: Path | str) -> FacilityInstance:
    """Read a Holmberg single-source CFLP file (p1 .. p71).

    Token order: ``m n``, m pairs ``capacity_i fixed_cost_i``, n demands, then
    the cost matrix facility-major (m blocks of n costs).

    Parameters
    ----------
    path : pathlib.Path or str
        The instance file.

    Returns
    -------
    FacilityInstance
    """
    path = Path(path)
    tok = _tokens(path)
    m, n = int(tok[0]), int(tok[1])
    values = np.array([float(t) for t in tok[2:]])
    expected = 2 * m + n + m * n
    if values.size != expected:
        msg = f"{path.name}: expected {expected} numbers after 'm n', found {values.size}."
        raise ValueError(msg)
    pairs = values[: 2 * m].reshape(m, 2)
    demand = values[2 * m : 2 * m + n]
    cost = values[2 * m + n :].reshape(m, n)
    return FacilityInstance(path.stem, pairs[:, 1].copy(), pairs[:, 0].copy(), demand, cost)


def read_optima(path: Path | str | None = None) -> list[dict[str, str]]:
    """Read ``optima.csv`` as a list of rows (dicts of strings).

    Parameters
    ----------
    path : pathlib.Path or str, optional
        Defaults to ``tests/data/reference/optima.csv``.

    Returns
    -------
    list of dict
    """
    path = Path(path) if path is not None else REFERENCE_DIR / "optima.csv"
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def published_optimum(family: str, instance: str, *, parameter: str = "") -> float:
    """Return the published optimum of ``instance`` in ``family`` from ``optima.csv``.

    Parameters
    ----------
    family : str
        ``"cflp"``, ``"uflp"`` or ``"sscflp"``.
    instance : str
        Instance name, e.g. ``"cap41"`` or ``"p1"``.
    parameter : str, optional
        The ``parameter`` column, e.g. ``"capacity=8000"``.

    Returns
    -------
    float
    """
    for row in read_optima():
        if (row["family"], row["instance"], row["parameter"]) == (family, instance, parameter):
            return float(row["optimum"])
    msg = f"no optimum for family={family!r} instance={instance!r} parameter={parameter!r}"
    raise KeyError(msg)
