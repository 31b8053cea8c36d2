"""Settings, places and candidate hosts for any English LA from GIAS and SEN2.

Every figure that is not in the open data is an assumption, written into the folder's
README by :mod:`optimiser.dataset.init.build`. The places open to the LA's children are
sized from the LA's own SEN2 placements so the baseline reproduces them:

* each group's places = its SEN2 count by package (state special, resourced provision and
  SEN units, specialist post-16 exactly; INMSS with headroom, since INMSS takes the
  children state and base places cannot), split over the group's settings by roll, in-area
  settings first and out-of-area ones by distance;
* ``total_places`` = the places open to this LA (the rest of a school serves other LAs).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from optimiser.dataset.init.national import LocalAuthority

#: GIAS establishment type -> setting_type (also used by scripts/build_default_data.py).
GIAS_TYPE = {
    "Community special school": "maintained_special",
    "Foundation special school": "maintained_special",
    "Academy special converter": "academy_special",
    "Academy special sponsor led": "academy_special",
    "Free schools special": "academy_special",
    "Non-maintained special school": "nmss",
    "Other independent special school": "independent_special",
    "Special post 16 institution": "post16_specialist",
}
GROUP_TYPES = {
    "state_special": ("maintained_special", "academy_special"),
    "inmss": ("nmss", "independent_special"),
    "spi": ("post16_specialist",),
}
#: Out-of-area reach [km] from the nearest home in the LA, and how many settings at least.
REACH_KM = {"state_special": 15.0, "inmss": 40.0, "spi": 30.0}
MIN_SETTINGS = {"state_special": 3, "inmss": 6, "spi": 2}
#: Weight of an out-of-area setting's roll vs an in-area one (decays with distance).
OOA_WEIGHT, OOA_DECAY_KM = 0.25, 15.0
#: Ages taken [years, at the start of the year]: GIAS gives no age range in this extract.
AGES = {"special": (2, 18), "spi": (16, 24), "Primary": (4, 10), "Secondary": (11, 15)}
ROLL_UNKNOWN = 40  # places assumed where GIAS has no (or a zero) roll
INMSS_HEADROOM = (1.08, 2)  # INMSS places = count × 1.08 + 2: calibration headroom
BASE_PLACES = 14  # mean places of one inclusion base (domain-facts §6: 8-20)
MAINSTREAM_TYPES_GIAS = ("Local authority maintained schools", "Academies", "Free Schools")
MAINSTREAM_PACKAGES = ("SPP7",)  # mainstream with support (costing framework)
CANDIDATE_PACKAGES = {"Primary": "SPP2;SPP3", "Secondary": "SPP3;SPP4"}
CANDIDATE_PLACES = {"Primary": 16, "Secondary": 20}
CAPITAL_GBP_PER_PLACE = 20_000  # domain-facts §1.2
FEES = {
    "independent_special": (63_000, 0.25, 45_000, 120_000),
    "nmss": (45_000, 0.2, 30_000, 80_000),
}
POST16_FEE = 60_000


def split_largest_remainder(total: int, weights: np.ndarray) -> np.ndarray:
    """``total`` split in proportion to ``weights`` (ties to the lower index)."""
    w = np.asarray(weights, float)
    if total <= 0 or w.sum() <= 0:
        return np.zeros(len(w), dtype=int)
    raw = total * w / w.sum()
    out = np.floor(raw).astype(int)
    order = np.lexsort((np.arange(len(w)), -(raw - out)))
    out[order[: total - out.sum()]] += 1
    return out


def _specials(gias: pd.DataFrame, la: LocalAuthority, homes: np.ndarray) -> pd.DataFrame:
    """Special schools and SPIs of each group in the LA and within reach of its homes."""
    sp = gias[gias["establishment_type"].isin(GIAS_TYPE)].copy()
    sp["setting_type"] = sp["establishment_type"].map(GIAS_TYPE)
    sp["in_area"] = sp["la_code"] == la.code
    d, _ = cKDTree(homes).query(sp[["easting", "northing"]].to_numpy(float))
    sp["d_km"] = np.where(sp["in_area"], 0.0, d / 1000)
    picks = []
    for group, types in GROUP_TYPES.items():
        g = sp[sp["setting_type"].isin(types)].sort_values(["d_km", "urn"])
        near = g[g["in_area"] | (g["d_km"] <= REACH_KM[group])]
        picks.append(near if len(near) >= MIN_SETTINGS[group] else g.head(MIN_SETTINGS[group]))
    out = pd.concat(picks)
    out["group"] = out["setting_type"].map({t: g for g, ts in GROUP_TYPES.items() for t in ts})
    roll = pd.to_numeric(out["number_of_pupils"], errors="coerce")
    out["roll_known"] = roll.fillna(0) > 0
    out["roll"] = roll.where(out["roll_known"], ROLL_UNKNOWN).astype(int)
    lo_hi = [AGES["spi"] if g == "spi" else AGES["special"] for g in out["group"]]
    out["age_min"], out["age_max"] = [a for a, _ in lo_hi], [b for _, b in lo_hi]
    return out


def _bases(mainstream: pd.DataFrame, n_places: int, rng: np.random.Generator) -> pd.DataFrame:
    """Inclusion bases at plausible hosts: LA mainstream schools, larger ones likelier."""
    if n_places <= 0 or mainstream.empty:
        return mainstream.iloc[:0].assign(roll=0, roll_known=False)
    n_bases = min(len(mainstream), max(1, round(n_places / BASE_PLACES)))
    w = mainstream["roll"].to_numpy(float) + 1.0
    pick = rng.choice(len(mainstream), size=n_bases, replace=False, p=w / w.sum())
    b = mainstream.iloc[np.sort(pick)].copy()
    b["setting_type"], b["group"] = "inclusion_base", "rp_units"
    b["roll"] = split_largest_remainder(n_places, np.ones(len(b)))
    b["roll_known"] = False
    return b


def mainstream_schools(gias: pd.DataFrame, la: LocalAuthority) -> pd.DataFrame:
    """The LA's state-funded primary and secondary mainstream schools with their ages."""
    m = gias[
        (gias["la_code"] == la.code)
        & gias["establishment_type_group"].isin(MAINSTREAM_TYPES_GIAS)
        & ~gias["establishment_type"].isin(GIAS_TYPE)
        & gias["education_phase"].isin(
            [
                "Primary",
                "Secondary",
                "All-through",
                "Middle deemed secondary",
                "Middle deemed primary",
            ]
        )
    ].copy()
    phase = m["education_phase"].map(lambda p: "Primary" if "primary" in p.lower() else "Secondary")
    m["phase"] = np.where(m["education_phase"] == "All-through", "All-through", phase)
    m["age_min"] = [4 if p != "Secondary" else 11 for p in m["phase"]]
    m["age_max"] = [10 if p == "Primary" else 15 for p in m["phase"]]
    m["roll"] = pd.to_numeric(m["number_of_pupils"], errors="coerce").fillna(0).astype(int)
    m["in_area"], m["d_km"] = True, 0.0
    return m.sort_values("urn")


def build_settings(
    gias: pd.DataFrame,
    la: LocalAuthority,
    homes: np.ndarray,
    counts: pd.Series,
    rng: np.random.Generator,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(settings, mainstream schools): specials, SPIs, bases sized to SEN2, mainstream."""
    main = mainstream_schools(gias, la)
    bases = _bases(main, int(counts.get("rp_units", 0)), rng)
    ms = main[~main["urn"].isin(bases["urn"])].assign(setting_type="mainstream", group="")
    ms["roll_known"] = True
    s = pd.concat([_specials(gias, la, homes), bases, ms], ignore_index=True)
    s["name"] = s["establishment_name"] + np.where(
        s["setting_type"] == "inclusion_base", " (inclusion base)", ""
    )
    s["la_code"] = s["la_code"].astype(int)
    s["urn"] = s["urn"].astype(int)
    return s, main


def setting_weights(s: pd.DataFrame) -> np.ndarray:
    """How strongly a setting draws the LA's children: its roll, discounted out of area."""
    w = s["roll"].to_numpy(float)
    far = ~s["in_area"].to_numpy(bool)
    w[far] *= OOA_WEIGHT * np.exp(-s["d_km"].to_numpy(float)[far] / OOA_DECAY_KM)
    return w


def build_places(
    s: pd.DataFrame, demand: pd.DataFrame, rng: np.random.Generator
) -> tuple[pd.DataFrame, np.ndarray]:
    """places rows and each setting's total_places (places open to the LA).

    ``demand`` is children by group (rows) × package (columns). Each group × package's
    places are split over the group's settings by :func:`setting_weights`.
    """
    rows: list[tuple[int, str, int]] = []
    total = np.zeros(len(s), dtype=int)
    w = setting_weights(s)
    for group in demand.index:
        idx = np.flatnonzero(s["group"].to_numpy() == group)
        if idx.size == 0:
            continue
        for package_id, n in demand.loc[group].items():
            need = int(np.ceil(n))
            if group == "inmss":
                need = int(np.ceil(n * INMSS_HEADROOM[0])) + (INMSS_HEADROOM[1] if n > 0 else 0)
            got = split_largest_remainder(need, w[idx])
            for i, k in zip(idx, got, strict=True):
                if k > 0:
                    rows.append((int(i), str(package_id), int(k)))
                    total[i] += k
    ms = np.flatnonzero(s["setting_type"].to_numpy() == "mainstream")
    for i in ms:
        for package_id in MAINSTREAM_PACKAGES:
            rows.append((int(i), package_id, 1))
            total[i] += 1
    fees = {i: draw_fee(t, rng) for i, t in enumerate(s["setting_type"])}
    places = pd.DataFrame(rows, columns=["row", "package_id", "places"])
    places["annual_cost_gbp"] = pd.array([fees[i] for i in places["row"]], dtype="Int64")
    return places, total


def draw_fee(setting_type: str, rng: np.random.Generator) -> int | None:
    """Per-setting fee [GBP/yr] for INMSS (lognormal, domain-facts §1.1) and SPIs."""
    if setting_type == "post16_specialist":
        return POST16_FEE
    if setting_type not in FEES:
        return None
    median, sigma, lo, hi = FEES[setting_type]
    return int(np.clip(round(np.exp(rng.normal(np.log(median), sigma)) / 100) * 100, lo, hi))


def host_gender(names: pd.Series) -> list[str]:
    """Boys or Girls when a school's name says so, else blank (unknown): the extract has no
    GIAS gender (an assumption until a full GIAS import gives it)."""
    boys = names.str.contains(r"\bBoys\b", regex=True)
    girls = names.str.contains(r"\bGirls\b", regex=True)
    pairs = zip(boys, girls, strict=True)
    return ["Boys" if b and not g else "Girls" if g and not b else "" for b, g in pairs]


def host_admissions(names: pd.Series, phases: pd.Series) -> list[str]:
    """Selective for a non-primary school named "Grammar", else blank (unknown): the extract
    has no GIAS admissions policy (an assumption until a full GIAS import gives it)."""
    grammar = names.str.contains("Grammar", regex=False) & (phases != "Primary")
    return ["Selective" if g else "" for g in grammar]


def build_candidates(main: pd.DataFrame, base_urns: set[int]) -> pd.DataFrame:
    """candidates.csv: the LA's mainstream schools without a base, with GIAS host attributes.

    ``phase`` and ``establishment_type`` are GIAS's; ``gender`` and ``admissions_policy``
    are read from the name (:func:`host_gender`, :func:`host_admissions`).
    """
    c = main[~main["urn"].astype(int).isin(base_urns)].copy()
    key = ["Secondary" if p == "Secondary" else "Primary" for p in c["phase"]]
    c = c.assign(
        name=c["establishment_name"],
        urn=c["urn"].astype(int),
        packages=[CANDIDATE_PACKAGES[k] for k in key],
        max_places=[CANDIDATE_PLACES[k] for k in key],
        capital_cost_gbp_per_place=CAPITAL_GBP_PER_PLACE,
        establishment_type=c["establishment_type"],
        gender=host_gender(c["establishment_name"]),
        admissions_policy=host_admissions(c["establishment_name"], c["phase"]),
    )
    c = c.sort_values(["name", "urn"], ignore_index=True)
    c["site_id"] = [f"N{i + 1:03d}" for i in range(len(c))]
    cols = [
        "site_id", "name", "urn", "easting", "northing", "age_min", "age_max", "packages",
        "max_places", "capital_cost_gbp_per_place", "phase", "establishment_type", "gender",
        "admissions_policy",
    ]  # fmt: skip
    return c[cols]


def assumptions(s: pd.DataFrame) -> list[str]:
    """The ``assumption`` cell of each setting: what is not from the open data."""
    out = []
    for r in s.to_dict("records"):
        t = r["setting_type"]
        if t == "mainstream":
            out.append(
                f"GIAS mainstream school; {', '.join(MAINSTREAM_PACKAGES)} with support assumed "
                "(1 place); ages by phase assumed"
            )
            continue
        if t == "inclusion_base":
            out.append(
                "ASSUMED inclusion base: host picked by roll among the LA's mainstream schools; "
                "places sized to the LA's SEN2 resourced provision + SEN units; replace with "
                "the LA's real bases"
            )
            continue
        where = "in area" if r["in_area"] else f"out of area, {r['d_km']:.0f} km from the LA"
        roll = (
            f"GIAS roll {r['roll']}"
            if r["roll_known"]
            else f"no GIAS roll: {ROLL_UNKNOWN} assumed for weighting"
        )
        out.append(
            f"{where}; {roll}; places open to the LA assumed: SEN2 {r['group']} count split "
            f"by roll and distance; packages by the group's SEN2 need mix; ages "
            f"{r['age_min']}-{r['age_max']} assumed (GIAS extract has no age range)"
        )
    return out
