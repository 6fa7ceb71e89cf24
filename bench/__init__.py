"""The source-harvest benchmark: how close a sync comes to Harvest's physical limit.

``python -m bench`` (``make bench``) starts the Harvest sandbox in its own process, runs full and incremental syncs
through the real ``source-harvest`` command, and compares requests, wall time and CPU with the floor set by
Harvest's rate limits (:mod:`bench.floor`) and the minimum number of requests (:mod:`bench.minimum`).
See bench/README.md.
"""
