"""The planner's web app (``optimiser app``): Streamlit pages over the public API."""
