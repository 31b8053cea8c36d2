"""Dataset folders for any English LA from national open data (``optimiser init``)."""

from optimiser.dataset.init.national import NEEDS as NEEDS
from optimiser.dataset.init.national import PLACEMENT_GROUPS as PLACEMENT_GROUPS
from optimiser.dataset.init.national import SETTING_GROUP as SETTING_GROUP
from optimiser.dataset.init.national import LocalAuthority as LocalAuthority
from optimiser.dataset.init.national import all_las as all_las
from optimiser.dataset.init.national import resolve_la as resolve_la
from optimiser.dataset.init.national import sen2_needs as sen2_needs
from optimiser.dataset.init.national import sen2_needs_by_group as sen2_needs_by_group
from optimiser.dataset.init.national import sen2_placements as sen2_placements
from optimiser.dataset.init.national import sen2_years as sen2_years

__all__ = [
    "NEEDS",
    "PLACEMENT_GROUPS",
    "SETTING_GROUP",
    "LocalAuthority",
    "all_las",
    "resolve_la",
    "sen2_needs",
    "sen2_needs_by_group",
    "sen2_placements",
    "sen2_years",
]
