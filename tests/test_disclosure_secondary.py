"""Secondary suppression and the LP audit (optimiser.suppression) on hand-solvable tables."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimiser._errors import DisclosureError, OptimiserError
from optimiser.suppression import (
    audit_intervals,
    check_table_publishable,
    determined_cells,
    leaks,
    margin_relations,
    secondary_suppression,
)


def with_margins(inner: np.ndarray) -> np.ndarray:
    """The (r+1) × (c+1) grid of ``inner`` with row, column and grand totals, row-major."""
    r, c = inner.shape
    full = np.zeros((r + 1, c + 1), dtype=int)
    full[:r, :c] = inner
    full[:r, c] = inner.sum(axis=1)
    full[r, :c] = inner.sum(axis=0)
    full[r, c] = inner.sum()
    return full.ravel()


def small(values: np.ndarray) -> np.ndarray:
    return (values > 0) & (values <= 7)


# 2 × 2 with margins; grid (row-major):  3  20 | 23
#                                       30  40 | 70
#                                       33  60 | 93
TWO_BY_TWO = with_margins(np.array([[3, 20], [30, 40]]))
R22 = margin_relations(2, 2)

# LA = Σ wards: cells [LA, w1, w2, w3]
WARDS = np.array([50, 3, 20, 27])
R_WARDS = np.array([[1, -1, -1, -1]])


def test_margin_relations_hold() -> None:
    assert np.all(R22 @ TWO_BY_TWO == 0)
    assert R22.shape == (6, 9)


def test_primary_only_is_recovered_exactly_by_the_audit() -> None:
    """The attack: totals minus parts gives the suppressed 3 back."""
    audit = audit_intervals(TWO_BY_TWO, R22, small(TWO_BY_TWO))
    row = audit.iloc[0]
    assert (row["cell"], row["lower"], row["upper"]) == (0, 3.0, 3.0)
    assert bool(row["leaks"])
    assert determined_cells(R22, small(TWO_BY_TWO))[0]
    with pytest.raises(DisclosureError, match="disclose 1 suppressed cell"):
        check_table_publishable(TWO_BY_TWO, R22, small(TWO_BY_TWO))


def test_two_by_two_suppresses_exactly_the_cheapest_complementary_cells() -> None:
    """The three other inner cells (20 + 30 + 40) are cheaper than any cycle through a total."""
    out = secondary_suppression(TWO_BY_TWO, R22, small(TWO_BY_TWO))
    assert out.reshape(3, 3).tolist() == [
        [True, True, False],
        [True, True, False],
        [False, False, False],
    ]
    audit = check_table_publishable(TWO_BY_TWO, R22, out)
    first = audit.set_index("cell").loc[0]
    assert first["lower"] == 0 and first["upper"] == 23  # no longer pinned
    assert not determined_cells(R22, out).any()


def test_secondary_suppression_does_not_modify_its_input() -> None:
    primary = small(TWO_BY_TWO)
    before = primary.copy()
    secondary_suppression(TWO_BY_TWO, R22, primary)
    assert np.array_equal(primary, before)


def test_la_equals_sum_of_wards_suppresses_a_second_ward() -> None:
    out = secondary_suppression(WARDS, R_WARDS, small(WARDS))
    assert out.tolist() == [False, True, True, False]  # the cheapest other ward (20)
    audit = check_table_publishable(WARDS, R_WARDS, out).set_index("cell")
    # the published LA total (50) and ward 3 (27) leave w1 + w2 = 23: neither is recovered
    assert audit.loc[1, ["lower", "upper"]].tolist() == [0, 23]
    assert audit.loc[2, ["lower", "upper"]].tolist() == [0, 23]


def test_sparse_relations_give_the_same_answer() -> None:
    out = secondary_suppression(WARDS, scipy.sparse.csr_matrix(R_WARDS), small(WARDS))
    assert out.tolist() == [False, True, True, False]


def test_a_cell_that_suppression_cannot_protect() -> None:
    """LA has one ward, and the LA total must stay published: the ward is the total."""
    values = np.array([5, 5])
    relations = np.array([[1, -1]])
    primary = np.array([False, True])
    with pytest.raises(DisclosureError, match="cannot be protected by suppression"):
        secondary_suppression(values, relations, primary, cost=np.array([np.inf, 1.0]))
    assert issubclass(DisclosureError, OptimiserError)


def test_cells_with_infinite_cost_are_never_suppressed() -> None:
    cost = np.ones(9)
    cost[1] = np.inf  # the 20 must stay published: go round through the 30, 23 ...
    out = secondary_suppression(TWO_BY_TWO, R22, small(TWO_BY_TWO), cost=cost)
    assert not out[1]
    check_table_publishable(TWO_BY_TWO, R22, out)


def test_rounding_alone_does_not_protect_a_lone_suppressed_ward() -> None:
    """LA 50 published as 50 (so 48-52), w2 = 47 exact: w1 is pinned to 1-5."""
    values = np.array([50, 3, 47])
    relations = np.array([[1, -1, -1]])
    supp = np.array([False, True, False])
    audit = audit_intervals(values, relations, supp, rounded=np.array([True, False, False]))
    assert audit.loc[0, ["lower", "upper"]].tolist() == [1, 5]
    assert bool(audit.loc[0, "leaks"])


def test_rounded_cells_widen_the_interval() -> None:
    out = secondary_suppression(WARDS, R_WARDS, small(WARDS))
    audit = audit_intervals(WARDS, R_WARDS, out, rounded=~out).set_index("cell")
    assert audit.loc[1, "upper"] > 23  # the ±2 on 50 and 27 loosens it


@pytest.mark.parametrize(
    ("lower", "upper", "primary", "leaky"),
    [
        (3, 3, True, True),
        (0, 7, True, False),
        (1, 7, True, False),
        (2, 40, True, True),  # attacker learns it is not 1
        (0, 6, True, True),  # attacker learns it is not 7
        (30, 30.5, False, True),  # pinned to 30
        (30, 31, False, False),
    ],
)
def test_leak_rule(lower: float, upper: float, primary: bool, leaky: bool) -> None:
    assert leaks(lower, upper, primary=primary) is leaky


inner_tables = st.tuples(st.integers(2, 3), st.integers(2, 3)).flatmap(
    lambda shape: st.lists(
        st.integers(0, 40), min_size=shape[0] * shape[1], max_size=shape[0] * shape[1]
    ).map(lambda xs: np.array(xs).reshape(shape))
)


@settings(
    max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(inner_tables)
def test_after_secondary_suppression_the_audit_never_pins_a_cell(inner: np.ndarray) -> None:
    values = with_margins(inner)
    relations = margin_relations(*inner.shape)
    primary = small(values)
    out = secondary_suppression(values, relations, primary)
    assert np.all(out[primary])  # primary cells stay suppressed
    audit = audit_intervals(values, relations, out)
    assert not audit["leaks"].any()
    assert (audit["upper"] - audit["lower"] >= 1).all()
    assert not determined_cells(relations, out).any()
