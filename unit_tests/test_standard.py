"""The CDK's standard tests (what `airbyte-cdk connector test` runs), from acceptance-test-config.yml.

Scenarios: spec, check with a good and an invalid config, discover, basic_read (every stream must give records and
every record must match its schema) and full_refresh, all against the Harvest sandbox that the repository-root
conftest.py starts on the host and port the scenario configs name. The Docker image tests are deselected there.
"""

from __future__ import annotations

from pathlib import Path

from airbyte_cdk.test.standard_tests import DeclarativeSourceTestSuite


class TestHarvestStandardSuite(DeclarativeSourceTestSuite):
    @classmethod
    def get_connector_root_dir(cls) -> Path:
        return Path(__file__).resolve().parent.parent
