"""`source-harvest spec|check|discover|read`: the Airbyte protocol on stdout.

The manifest and components.py are this project's own files, so they are loaded as trusted code (no
AIRBYTE_ENABLE_UNSAFE_CODE). In a wheel they sit inside this package (pyproject force-includes them); in an
editable install or a checkout they are at the repository root, one level up.
State is handed to the source's constructor: the declarative source ignores state given only to `read()`.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from airbyte_cdk.entrypoint import AirbyteEntrypoint, launch
from airbyte_cdk.sources.declarative.yaml_declarative_source import YamlDeclarativeSource

PACKAGE_DIR = Path(__file__).resolve().parent


def connector_dir() -> Path:
    """The folder holding manifest.yaml and components.py: this package (wheel) or the repo root (checkout)."""
    for candidate in (PACKAGE_DIR, PACKAGE_DIR.parent):
        if (candidate / "manifest.yaml").is_file() and (candidate / "components.py").is_file():
            return candidate
    raise FileNotFoundError(f"manifest.yaml and components.py not found in {PACKAGE_DIR} or {PACKAGE_DIR.parent}")


def load_components(path: Path) -> ModuleType:
    """Import components.py under the names the manifest's class_name uses (as the CDK's image does)."""
    spec = importlib.util.spec_from_file_location("components", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules["components"] = module
    sys.modules["source_declarative_manifest.components"] = module
    spec.loader.exec_module(module)
    return module


def create_source(args: list[str]) -> YamlDeclarativeSource:
    """Build the source for a command line such as `read --config c.json --catalog k.json --state s.json`."""
    folder = connector_dir()
    load_components(folder / "components.py")
    parsed = AirbyteEntrypoint.parse_args(args)
    config_path = getattr(parsed, "config", None)
    catalog_path = getattr(parsed, "catalog", None)
    state_path = getattr(parsed, "state", None)
    return YamlDeclarativeSource(
        path_to_yaml=str(folder / "manifest.yaml"),
        config=YamlDeclarativeSource.read_config(config_path) if config_path else None,
        catalog=YamlDeclarativeSource.read_catalog(catalog_path) if catalog_path else None,
        state=YamlDeclarativeSource.read_state(state_path) if state_path else [],
        config_path=config_path,
    )


def run() -> None:
    args = sys.argv[1:]
    launch(create_source(args), args)


if __name__ == "__main__":
    run()
