"""harvest_sandbox: a faithful, local emulator of the Harvest API v2 over real HTTP.

Public API:

* :class:`SandboxServer`: the emulator on ``127.0.0.1:<port>`` in a thread (``start/stop/url/reset/...``);
* :func:`create_app`: the transport-neutral application the server, the CLI and the fixture wrap;
* ``harvest_sandbox.testing``: the pytest plugin (``pytest_plugins = ["harvest_sandbox.testing"]`` gives ``sandbox``);
* ``python -m harvest_sandbox --port 0 --seed 42 --dataset small``: the CLI.

See harvest_sandbox/README.md.
"""

from __future__ import annotations

from typing import Any

from .app import SandboxApp
from .errors import HarvestError
from .resources import Change
from .server import SandboxServer
from .state import Config
from .store import Store


def create_app(seed: int = 42, dataset: str = "tiny", **options: Any) -> SandboxApp:
    """Build the application (no socket). ``options`` are :class:`Config` knobs plus ``clock``/``time_fn``."""
    return SandboxApp(seed=seed, dataset=dataset, **options)


__all__ = ["Change", "Config", "HarvestError", "SandboxApp", "SandboxServer", "Store", "create_app"]
