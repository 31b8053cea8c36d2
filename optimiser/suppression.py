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

import highspy  # scipy's HiGHS build offers no model to reuse between queries
import highspy._core
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


def _sparse(relations: Relations, n: int) -> scipy.sparse.csr_array:
    """R as a CSR array with one column per cell (a 1-d R is one relation)."""
    if scipy.sparse.issparse(relations):
        matrix = scipy.sparse.csr_array(cast(Any, relations), dtype=float)
    else:
        dense = np.asarray(relations, dtype=float)
        if dense.ndim == 1:
            dense = dense.reshape(1, -1)
        if dense.size == 0:
            dense = np.zeros((0, n))
        matrix = scipy.sparse.csr_array(dense)
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
    matrix = _sparse(relations, mask.size)
    out = np.zeros(mask.size, dtype=bool)
    idx = np.flatnonzero(mask)
    if idx.size == 0:
        return out
    sub = matrix[:, idx]
    sub = sub[np.flatnonzero(np.abs(sub).sum(axis=1) > _TOL)].toarray()
    null = scipy.linalg.null_space(sub) if sub.shape[0] else np.eye(idx.size)
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


def _bounds(
    vals: np.ndarray, supp: np.ndarray, rnd: np.ndarray, step: int
) -> tuple[np.ndarray, np.ndarray]:
    """The attacker's bounds on every cell: suppressed ≥ 0, published exact or in its band."""
    lo, hi = _published_bounds(vals, rnd & ~supp, step)
    lo[supp] = 0.0
    hi[supp] = np.inf
    return lo, hi


class _Attack:
    """min / max of single cells over {x : R x = 0, lo ≤ x ≤ hi}, one HiGHS model reused.

    The model is built once per set of bounds; each query only changes the
    objective, so HiGHS starts from the previous basis (hundreds of queries on
    a table of thousands of cells take a second or two).
    """

    def __init__(self, matrix: scipy.sparse.csr_array, lo: np.ndarray, hi: np.ndarray) -> None:
        # the core class: highspy.Highs prints a banner to stdout when it is built
        self._h = highspy._core._Highs()
        self._h.setOptionValue("output_flag", False)
        self._h.setOptionValue("presolve", "off")
        # HiGHS starts one task scheduler per process, sized by the first run's "threads";
        # a later run asking for another size fails ("Not Set"): every highspy user here
        # asks for one thread (optimiser/_solver/mip.py too)
        self._h.setOptionValue("threads", 1)
        n = lo.size
        inf = highspy.kHighsInf
        lp = highspy.HighsLp()
        lp.num_col_ = n
        lp.num_row_ = matrix.shape[0]
        lp.col_cost_ = np.zeros(n)
        lp.col_lower_ = lo.astype(float)
        lp.col_upper_ = np.where(np.isinf(hi), inf, hi).astype(float)
        lp.row_lower_ = np.zeros(matrix.shape[0])
        lp.row_upper_ = np.zeros(matrix.shape[0])
        csc = scipy.sparse.csc_array(matrix)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = csc.indptr.astype(np.int32)
        lp.a_matrix_.index_ = csc.indices.astype(np.int32)
        lp.a_matrix_.value_ = csc.data.astype(float)
        self._h.passModel(lp)
        self._n = n
        self._cost = np.zeros(n)

    def interval(self, k: int) -> tuple[float, float]:
        ends = []
        idx = np.arange(self._n, dtype=np.int32)
        for sign in (1.0, -1.0):
            self._cost[:] = 0.0
            self._cost[k] = sign
            self._h.changeColsCost(self._n, idx, self._cost)
            self._h.run()
            status = self._h.getModelStatus()
            if status == highspy.HighsModelStatus.kUnbounded:
                ends.append(-math.inf if sign > 0 else math.inf)
            elif status != highspy.HighsModelStatus.kOptimal:
                msg = (
                    f"the audit LP for cell {k} failed ({self._h.modelStatusToString(status)}); "
                    "the published values do not satisfy the relations, so the table cannot "
                    "be audited"
                )
                raise DisclosureError(msg)
            else:
                ends.append(sign * float(self._h.getInfo().objective_function_value))
        return ends[0], ends[1]


def leaks(lower: float, upper: float, *, primary: bool) -> bool:
    """True when an attacker's interval [lower, upper] for a suppressed cell is too narrow.

    Any suppressed cell leaks when the interval holds a single whole number
    (its exact value is recovered). A primary cell (a suppressed 1-7) also
    leaks unless the interval covers all of [1, SMALL_MAX]: "c" already says
    the count is 1-7, and the attacker must learn nothing more. A cell shown
    to be 0 does not leak: the rule publishes zeros as they are.
    """
    if upper < 1 - 1e-6:
        return False
    if math.isinf(upper) or math.isinf(lower):
        return primary and lower > 1 + 1e-6
    if math.floor(upper + 1e-6) <= math.ceil(lower - 1e-6):
        return True
    return primary and (lower > 1 + 1e-6 or upper < SMALL_MAX - 1e-6)


def _primary(vals: np.ndarray, supp: np.ndarray, primary: npt.ArrayLike | None) -> np.ndarray:
    if primary is None:
        return supp & (vals > 0) & (vals <= SMALL_MAX)
    return _mask(primary, vals.size, "primary") & supp


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
    suppressed : mask of the cells shown as "c" (or not shown at all).
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
    matrix = _sparse(relations, n)
    supp = _mask(suppressed, n, "suppressed")
    rnd = _mask(rounded, n, "rounded")
    prim = _primary(vals, supp, primary)
    lo, hi = _bounds(vals, supp, rnd, step)
    attack = _Attack(matrix, lo, hi) if supp.any() else None
    rows = []
    for k in np.flatnonzero(supp):
        lower, upper = cast(_Attack, attack).interval(int(k))
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


def _cover(
    vals: np.ndarray,
    matrix: scipy.sparse.csr_array,
    supp: np.ndarray,
    weights: np.ndarray,
    band: tuple[np.ndarray, np.ndarray],
    k: int,
    shift: float,
) -> np.ndarray | None:
    """The cheapest published cells to suppress so that cell ``k`` can move by ``shift``.

    Finds an alternative table ``values + z`` of counts (``values + z >= 0``) with
    ``R @ z = 0`` and ``z_k = shift``. A published cell may move free of charge
    inside the band its rounding leaves (``band``: lowest and highest value a
    reader cannot rule out); any move beyond it costs ``cost_j`` per unit, and
    the cells that move beyond their band are the ones to suppress. Cells with
    an infinite cost may not leave their band. Returns the mask of those cells,
    or None when no such ``z`` exists.
    """
    n = vals.size
    lo_band, hi_band = band
    pub = ~supp
    # z = f + p - m; f within the band (suppressed: f >= -value), p, m >= 0 priced
    f_lo = np.where(pub, lo_band - vals, -vals)
    f_hi = np.where(pub, hi_band - vals, np.inf)
    paid = pub & ~np.isinf(weights)
    price = np.where(paid, weights, 0.0)
    eye = scipy.sparse.identity(n, format="csr")
    a_eq = scipy.sparse.vstack(
        [
            scipy.sparse.hstack([matrix, matrix, -matrix]),
            scipy.sparse.hstack([eye[[k]], eye[[k]], -eye[[k]]]),
        ],
        format="csr",
    )
    b_eq = np.concatenate([np.zeros(matrix.shape[0]), [shift]])
    a_ub = scipy.sparse.hstack([-eye, -eye, eye], format="csr")  # -(f + p - m) <= values
    cap = [(0.0, None) if ok else (0.0, 0.0) for ok in paid]
    bounds = [
        (float(a), None if math.isinf(b) else float(b)) for a, b in zip(f_lo, f_hi, strict=True)
    ]
    bounds += cap + cap
    c = np.concatenate([np.where(supp, 1e-6, 0.0), price, price])
    res = scipy.optimize.linprog(
        c, A_ub=a_ub, b_ub=vals, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs"
    )
    if res.status != 0:
        return None
    moved = res.x[n : 2 * n] + res.x[2 * n :]
    return (moved > 1e-7) & pub


def secondary_suppression(
    values: npt.ArrayLike,
    relations: Relations,
    suppressed: npt.ArrayLike,
    *,
    cost: npt.ArrayLike | None = None,
    rounded: npt.ArrayLike | None = None,
    step: int = ROUND_TO,
    primary: npt.ArrayLike | None = None,
    attack: npt.ArrayLike | None = None,
) -> np.ndarray:
    """The primary mask extended until no suppressed cell can be recovered or narrowed.

    Each suppressed cell is attacked in turn (:func:`audit_intervals`'s LP:
    the published cells exact, or within their rounding band where
    ``rounded``). When its interval :func:`leaks`, the cheapest set of
    published cells that lets it move far enough is suppressed: for a primary
    cell down to 1 and up to 7, for any other cell by one either way
    (:func:`_cover`, an L1-minimal alternative table whose published cells
    stay inside their bands where they can). Suppressing a cell only widens
    every interval, so a cell found safe stays safe and one pass suffices
    (newly suppressed cells are attacked too). Cheapest means lowest ``cost``;
    the default is the cell's value plus 1, plus 0.001 per relation the cell
    is in (small cells first, then cells in fewest relations). The result is
    deterministic. A cell with an infinite cost is never suppressed.

    ``attack`` limits the cells attacked to a mask (default: every suppressed
    cell), for callers that know the others are safe and audit afterwards.

    Raises DisclosureError when a cell cannot be protected by suppression
    (no alternative table exists without changing a cell that must stay).
    """
    vals = np.asarray(values, dtype=float)
    n = vals.size
    matrix = _sparse(relations, n)
    supp = _mask(suppressed, n, "suppressed")
    targets = supp if attack is None else supp & _mask(attack, n, "attack")
    rnd = _mask(rounded, n, "rounded")
    prim = _primary(vals, supp, primary)
    n_rel = np.asarray((abs(matrix) > _TOL).sum(axis=0)).ravel()
    weights = vals + 1.0 + 1e-3 * n_rel if cost is None else np.asarray(cost, dtype=float)
    if weights.shape != (n,):
        msg = f"cost must have one entry per cell ({n}); got shape {weights.shape}"
        raise ValueError(msg)
    band = _published_bounds(vals, rnd, step)
    queue: list[int] = [int(i) for i in np.flatnonzero(targets)]
    model: _Attack | None = None
    while queue:
        k = queue.pop(0)
        if model is None:
            model = _Attack(matrix, *_bounds(vals, supp, rnd, step))
        lower, upper = model.interval(k)
        if not leaks(lower, upper, primary=bool(prim[k])):
            continue
        v = vals[k]
        if prim[k]:
            shifts = [
                s
                for s in (SMALL_MAX - v, 1 - v)
                if s and ((s > 0 and upper < SMALL_MAX - 1e-6) or (s < 0 and lower > 1 + 1e-6))
            ]
        else:
            shifts = [1.0] if v < 1 else [1.0, -1.0]
        added = np.zeros(n, dtype=bool)
        for shift in shifts:
            extra = _cover(vals, matrix, supp | added, weights, band, k, shift)
            if extra is None:
                continue
            added |= extra
            if not prim[k]:
                break
        if not added.any():
            msg = (
                f"cell {k} (value {v:g}) cannot be protected by suppression: no other "
                "table of counts agrees with the cells that must stay published; publish the "
                "table at a coarser level or drop the relation that gives it away"
            )
            raise DisclosureError(msg)
        supp |= added
        model = None  # the bounds changed
        queue = [*(int(i) for i in np.flatnonzero(added)), k, *queue]
    return supp


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
