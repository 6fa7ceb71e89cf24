"""``make demo`` / ``make sync``: Harvest data into a local DuckDB file through PyAirbyte (see demo/README.md).

Runs from the PyAirbyte venv ``.venv-demo`` (``demo/install.sh``); the connector and the sandbox run from the
project's ``.venv``, as separate processes.
"""
