"""Secondary suppression and the LP audit of published tables (``docs/disclosure.md``).

A published table is a vector of cell ``values`` and a matrix ``relations`` R
with ``R @ values == 0`` for every linear relation a reader knows (a total
minus its parts, LA minus the sum of its wards, ...). Primary suppression
(:mod:`optimiser.disclosure`: 1-7 → "c") is not enough: a suppressed cell can
often be solved for from the published ones.

* :func:`secondary_suppression` extends the suppressed set, cheapest cells
  first, until (a) no suppressed cell is determined by the published cells and
  the relations (the null-space test, exact for equalities) and (b) the LP
  audit finds no suppressed cell whose feasible interval is too narrow.
* :func:`audit_intervals` attacks a table: the min and max of every suppressed
  cell subject to the relations, the published cells (exact, or within the
  band rounding leaves) and non-negativity, by linear programming (HiGHS).
* :func:`check_table_publishable` runs the audit and raises
  :class:`~optimiser._errors.DisclosureError` when anything leaks.

Protection rule (:func:`leaks`): a *primary* cell (a suppressed 1-7) is safe
when its interval covers the whole of [1, 7] — the attacker learns nothing
beyond what "c" already says; any suppressed cell leaks when it is pinned to a
single whole number. Everything works on plain arrays; nothing is modified.
"""

from __future__ import annotations

import math
from typing import Any, TypeAlias, cast

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.linalg
import scipy.optimize
import scipy.sparse

from optimiser._errors import DisclosureError
from optimiser.disclosure import ROUND_TO, SMALL_MAX

#: The published linear relations R (R @ values = 0): a dense array or a scipy sparse matrix.
Relations: TypeAlias = "npt.ArrayLike | scipy.sparse.spmatrix | scipy.sparse.sparray"

_TOL = 1e-9


def _dense(relations: Relations, n: int) -> np.ndarray:
    if scipy.sparse.issparse(relations):
        relations = cast(Any, relations).toarray()
    matrix = np.asarray(relations, dtype=float)
    if matrix.ndim == 1:
        matrix = matrix.reshape(1, -1)
    if matrix.size == 0:
        matrix = np.zeros((0, n))
    if matrix.shape[1] != n:
        msg = (
            f"relations has {matrix.shape[1]} columns but there are {n} cells; one column per cell"
        )
        raise ValueError(msg)
    return matrix


def _mask(mask: npt.ArrayLike | None, n: int, name: str) -> np.ndarray:
    out = np.zeros(n, dtype=bool) if mask is None else np.asarray(mask, dtype=bool).copy()
    if out.shape != (n,):
        msg = f"{name} must be a boolean mask with one entry per cell ({n}); got shape {out.shape}"
        raise ValueError(msg)
    return out


def determined_cells(relations: Relations, suppressed: npt.ArrayLike) -> np.ndarray:
    """Mask of the suppressed cells whose value follows from the published cells.

    With the published cells known, the suppressed values ``x_S`` satisfy
    ``R[:, S] @ x_S = -R[:, P] @ x_P``; they can move along the null space of
    ``R[:, S]`` and nowhere else. A suppressed cell is determined exactly when
    its coordinate is zero in every null vector.
    """
    mask = np.asarray(suppressed, dtype=bool)
    matrix = _dense(relations, mask.size)
    out = np.zeros(mask.size, dtype=bool)
    idx = np.flatnonzero(mask)
    if idx.size == 0:
        return out
    null = scipy.linalg.null_space(matrix[:, idx]) if matrix.shape[0] else np.eye(idx.size)
    if null.shape[1] == 0:
        out[idx] = True
        return out
    out[idx] = np.linalg.norm(null, axis=1) < 1e-8
    return out


def _published_bounds(
    values: np.ndarray, rounded: np.ndarray, step: int
) -> tuple[np.ndarray, np.ndarray]:
    """What a reader knows of each published cell: [value, value], or rounding's band."""
    lo = values.astype(float).copy()
    hi = values.astype(float).copy()
    half = step // 2
    shown = np.floor(values / step + 0.5) * step
    lo[rounded] = np.maximum(0.0, shown[rounded] - half)
    hi[rounded] = shown[rounded] + half
    return lo, hi


def _interval(
    matrix: np.ndarray, bounds: list[tuple[float, float | None]], k: int
) -> tuple[float, float]:
    """Min and max of cell ``k`` subject to ``matrix @ x == 0`` and ``bounds`` (HiGHS)."""
    n = len(bounds)
    c = np.zeros(n)
    c[k] = 1.0
    eq = matrix if matrix.shape[0] else None
    rhs = np.zeros(matrix.shape[0]) if matrix.shape[0] else None
    ends = []
    for sign in (1.0, -1.0):
        res = scipy.optimize.linprog(sign * c, A_eq=eq, b_eq=rhs, bounds=bounds, method="highs")
        if res.status == 3:  # unbounded
            ends.append(-math.inf if sign > 0 else math.inf)
        elif res.status != 0:
            msg = (
                f"the audit LP for cell {k} failed ({res.message}); the published values do "
                "not satisfy the relations, so the table cannot be audited"
            )
            raise DisclosureError(msg)
        else:
            ends.append(sign * float(res.fun))
    return ends[0], ends[1]


def leaks(lower: float, upper: float, *, primary: bool) -> bool:
    """True when an attacker's interval [lower, upper] for a suppressed cell is too narrow.

    Any suppressed cell leaks when the interval holds a single whole number
    (its exact value is recovered). A primary cell (a suppressed 1-7) also
    leaks unless the interval covers all of [1, SMALL_MAX]: "c" already says
    the count is 1-7, and the attacker must learn nothing more.
    """
    if math.floor(upper + 1e-6) <= math.ceil(lower - 1e-6):
        return True
    return primary and (lower > 1 + 1e-6 or upper < SMALL_MAX - 1e-6)


def audit_intervals(
    values: npt.ArrayLike,
    relations: Relations,
    suppressed: npt.ArrayLike,
    *,
    rounded: npt.ArrayLike | None = None,
    step: int = ROUND_TO,
    primary: npt.ArrayLike | None = None,
) -> pd.DataFrame:
    """Attack a table: the feasible interval of every suppressed cell, by LP.

    Parameters
    ----------
    values : exact cell values (whole numbers).
    relations : R (dense or scipy.sparse), ``R @ values == 0``.
    suppressed : mask of the cells shown as "c".
    rounded : mask of the published cells shown rounded to ``step``; the reader
        knows them only within ±(step // 2) of the rounded value. Other
        published cells are known exactly.
    primary : mask of the cells suppressed for being small; default: the
        suppressed cells whose value is 1-7.

    Returns
    -------
    One row per suppressed cell: ``cell``, ``value``, ``lower``, ``upper``,
    ``primary`` and ``leaks`` (:func:`leaks`).
    """
    vals = np.asarray(values, dtype=float)
    n = vals.size
    matrix = _dense(relations, n)
    supp = _mask(suppressed, n, "suppressed")
    rnd = _mask(rounded, n, "rounded") & ~supp
    prim = (
        (supp & (vals > 0) & (vals <= SMALL_MAX))
        if primary is None
        else _mask(primary, n, "primary") & supp
    )
    lo, hi = _published_bounds(vals, rnd, step)
    bounds: list[tuple[float, float | None]] = [
        (0.0, None) if supp[i] else (float(lo[i]), float(hi[i])) for i in range(n)
    ]
    rows = []
    for k in np.flatnonzero(supp):
        lower, upper = _interval(matrix, bounds, int(k))
        rows.append(
            {
                "cell": int(k),
                "value": vals[k],
                "lower": lower,
                "upper": upper,
                "primary": bool(prim[k]),
                "leaks": leaks(lower, upper, primary=bool(prim[k])),
            }
        )
    columns = ["cell", "value", "lower", "upper", "primary", "leaks"]
    return pd.DataFrame(rows, columns=columns)


def _exact_bounds(vals: np.ndarray, supp: np.ndarray) -> list[tuple[float, float | None]]:
    return [(0.0, None) if supp[i] else (float(vals[i]), float(vals[i])) for i in range(vals.size)]


def _cover(
    vals: np.ndarray,
    matrix: np.ndarray,
    supp: np.ndarray,
    weights: np.ndarray,
    k: int,
    shift: float,
) -> np.ndarray | None:
    """The cheapest published cells to suppress so that cell ``k`` can move by ``shift``.

    Solves min Σ cost_j |z_j| over the published cells subject to ``R @ z = 0``,
    ``z_k = shift`` and ``values + z >= 0`` (the attacker's alternative table
    ``values + z`` must be a table of counts); cells with an infinite cost keep
    ``z_j = 0``. Returns the mask of published cells with ``z_j != 0``, or None
    when no such ``z`` exists.
    """
    n = vals.size
    c_cell = np.where(supp, 1e-6, np.where(np.isinf(weights), 0.0, weights))
    c = np.concatenate([c_cell, c_cell])
    eye = np.eye(n)
    a_eq = np.vstack([np.hstack([matrix, -matrix]), np.hstack([eye[k], -eye[k]])])
    b_eq = np.concatenate([np.zeros(matrix.shape[0]), [shift]])
    a_ub = np.hstack([-eye, eye])  # -(z+ - z-) <= values
    fixed = np.isinf(weights) & ~supp
    bounds = [(0.0, 0.0) if fixed[i % n] else (0.0, None) for i in range(2 * n)]
    res = scipy.optimize.linprog(
        c, A_ub=a_ub, b_ub=vals, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs"
    )
    if res.status != 0:
        return None
    z = res.x[:n] - res.x[n:]
    return (np.abs(z) > 1e-7) & ~supp


def secondary_suppression(
    values: npt.ArrayLike,
    relations: Relations,
    suppressed: npt.ArrayLike,
    *,
    cost: npt.ArrayLike | None = None,
) -> np.ndarray:
    """The primary mask extended until no suppressed cell can be recovered or narrowed.

    Repeatedly takes the first suppressed cell that is determined by the
    published cells (:func:`determined_cells`) or, failing that, whose LP
    interval (published cells exact) :func:`leaks`, and suppresses the
    cheapest set of published cells that lets it move far enough: for a
    primary cell down to 1 and up to 7, for any other cell by one either way
    (:func:`_cover`, an L1-minimal alternative table). Cheapest means lowest
    ``cost``; the default is the cell's value plus 1, plus 0.001 per relation
    the cell is in (small cells first, then cells in fewest relations). Ties
    are broken by HiGHS deterministically, so the result is deterministic.
    A cell with an infinite cost is never suppressed.

    Raises DisclosureError when a cell cannot be protected by suppression
    (no alternative table exists without changing a cell that must stay).
    """
    vals = np.asarray(values, dtype=float)
    n = vals.size
    matrix = _dense(relations, n)
    supp = _mask(suppressed, n, "suppressed")
    prim = supp & (vals > 0) & (vals <= SMALL_MAX)
    n_rel = (np.abs(matrix) > _TOL).sum(axis=0)
    weights = vals + 1.0 + 1e-3 * n_rel if cost is None else np.asarray(cost, dtype=float)
    if weights.shape != (n,):
        msg = f"cost must have one entry per cell ({n}); got shape {weights.shape}"
        raise ValueError(msg)
    while True:
        det = np.flatnonzero(determined_cells(matrix, supp))
        target: int | None = int(det[0]) if det.size else None
        interval = (vals[target], vals[target]) if target is not None else None
        if target is None:
            bounds = _exact_bounds(vals, supp)
            for k in np.flatnonzero(supp):
                lower, upper = _interval(matrix, bounds, int(k))
                if leaks(lower, upper, primary=bool(prim[k])):
                    target, interval = int(k), (lower, upper)
                    break
        if target is None or interval is None:
            return supp
        v = vals[target]
        if prim[target]:
            shifts = [
                s
                for s in (SMALL_MAX - v, 1 - v)
                if s
                and (
                    (s > 0 and interval[1] < SMALL_MAX - 1e-6) or (s < 0 and interval[0] > 1 + 1e-6)
                )
            ]
        else:
            shifts = [1.0] if v < 1 else [1.0, -1.0]
        added = False
        for shift in shifts:
            extra = _cover(vals, matrix, supp, weights, target, shift)
            if extra is None:
                continue
            supp |= extra
            added = added or bool(extra.any())
            if not prim[target]:
                break
        if not added:
            msg = (
                f"cell {target} (value {v:g}) cannot be protected by suppression: no other "
                "table of counts agrees with the cells that must stay published; publish the "
                "table at a coarser level or drop the relation that gives it away"
            )
            raise DisclosureError(msg)


def check_table_publishable(
    values: npt.ArrayLike,
    relations: Relations,
    suppressed: npt.ArrayLike,
    *,
    rounded: npt.ArrayLike | None = None,
    step: int = ROUND_TO,
    primary: npt.ArrayLike | None = None,
    name: str = "table",
) -> pd.DataFrame:
    """Audit a table (:func:`audit_intervals`) and raise DisclosureError if anything leaks.

    Fail closed: the table must not be written when this raises. Returns the
    audit when it passes.
    """
    result = audit_intervals(
        values, relations, suppressed, rounded=rounded, step=step, primary=primary
    )
    bad = result[result["leaks"]]
    if not bad.empty:
        cells = ", ".join(
            f"cell {r.cell} in [{r.lower:g}, {r.upper:g}]" for r in bad.itertuples(index=False)
        )
        msg = (
            f"{name} would disclose {len(bad)} suppressed cell(s) ({cells}); an attacker can "
            "recover or narrow them from the published cells and totals. Run "
            "optimiser.suppression.secondary_suppression on the table before publishing"
        )
        raise DisclosureError(msg)
    return result


def margin_relations(n_rows: int, n_cols: int) -> np.ndarray:
    """R for an ``n_rows`` × ``n_cols`` table with row totals, column totals and a grand total.

    Cells are numbered row-major over the (n_rows + 1) × (n_cols + 1) grid whose
    last column holds the row totals and last row the column totals (the grand
    total last). One relation per row and per column: total − Σ parts = 0.
    """
    width = n_cols + 1
    size = (n_rows + 1) * width
    rels = []
    for i in range(n_rows + 1):
        row = np.zeros(size)
        row[i * width : i * width + n_cols] = 1.0
        row[i * width + n_cols] = -1.0
        rels.append(row)
    for j in range(n_cols + 1):
        col = np.zeros(size)
        col[[i * width + j for i in range(n_rows)]] = 1.0
        col[n_rows * width + j] = -1.0
        rels.append(col)
    return np.vstack(rels)
