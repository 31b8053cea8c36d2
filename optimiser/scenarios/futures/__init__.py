"""Demand futures: seeded samples of growth, need mix, fees and places, each rolled forward.

Futures run on Dask (a local cluster by default, or a scheduler's address) and give the
same tables as a serial loop, because each future is seeded by its own index.
"""
