"""The planner's web app (``optimiser app``): Streamlit pages over the public API.

``main.py`` is the Streamlit script (``optimiser app`` runs it); each ``page_<name>.py``
draws one page; :mod:`optimiser.app.state` caches every load and solve;
:mod:`optimiser.app.draft` builds an option without YAML.
"""

from optimiser.app.draft import OptionDraft

__all__ = ["OptionDraft"]
