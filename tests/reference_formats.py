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
    # The instance ends at the first NUL: the files are NUL-padded, and p47 has 17 stray
    # tokens after its padding (the tokens before it match OR-Datasets' formatted p47).
    raw = path.read_bytes()
    tok = raw[: raw.index(b"\x00")].decode("ascii").split() if b"\x00" in raw else _tokens(path)
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


@dataclass(frozen=True)
class PMedianInstance:
    """A capacitated p-median instance as facility-location arrays (every point a site).

    Attributes
    ----------
    name : str
        Instance name, e.g. ``"pmedcap01"``.
    facility : FacilityInstance
        Zero fixed costs, capacity Q at every point, the points' demands, and
        ``assign_cost[i, j]`` = floor(Euclidean distance from point i to point j).
    p : int
        Number of medians to open.
    optimum : float
        The optimum stated in the file (its second token).
    """

    name: str
    facility: FacilityInstance
    p: int
    optimum: float


def read_pmedcap(path: Path | str) -> PMedianInstance:
    """Read an Osman-Christofides capacitated p-median file (pmedcap01 .. pmedcap20).

    Token order: ``problem_no optimum``, ``n p Q``, then n lines ``id x y demand``.
    Distances are Euclidean, truncated to integers (floor), which reproduces the
    published optima; the objective is the unweighted sum of distances.

    Parameters
    ----------
    path : pathlib.Path or str
        The instance file.

    Returns
    -------
    PMedianInstance
    """
    path = Path(path)
    tok = _tokens(path)
    optimum = float(tok[1])
    n, p, q = int(tok[2]), int(tok[3]), float(tok[4])
    if len(tok) != 5 + 4 * n:
        msg = f"{path.name}: expected {4 * n} numbers after 'n p Q', found {len(tok) - 5}."
        raise ValueError(msg)
    rows = np.array([float(t) for t in tok[5:]]).reshape(n, 4)
    xy, demand = rows[:, 1:3], rows[:, 3]
    dist = np.floor(np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(axis=-1)))
    facility = FacilityInstance(path.stem, np.zeros(n), np.full(n, q), demand, dist)
    return PMedianInstance(path.stem, facility, p, optimum)
