from __future__ import annotations

from components import HarvestLegacyChildStateMigration

_LEGACY = {
    "states": [
        {"partition": {"id": 1, "parent_slice": {}}, "cursor": {"updated_at": "2024-01-01T00:00:00Z"}},
        {"partition": {"id": 2, "parent_slice": {}}, "cursor": {"updated_at": "2024-03-01T00:00:00Z"}},
    ],
    "state": {"updated_at": "2024-02-01T00:00:00Z"},
    "lookback_window": 12,
}


def _migration(parent_stream: str = "") -> HarvestLegacyChildStateMigration:
    return HarvestLegacyChildStateMigration(config={}, parameters={}, parent_stream=parent_stream)


def test_given_a_1_2_x_per_partition_state_then_the_newest_cursor_becomes_the_global_and_parent_state() -> None:
    migration = _migration("invoices")
    assert migration.should_migrate(_LEGACY)
    assert migration.migrate(_LEGACY) == {
        "use_global_cursor": True,
        "state": {"updated_at": "2024-03-01T00:00:00Z"},
        "lookback_window": 12,
        "parent_state": {"invoices": {"updated_at": "2024-03-01T00:00:00Z"}},
    }


def test_given_a_stream_without_incremental_parent_then_no_parent_state_is_written() -> None:
    assert "parent_state" not in _migration().migrate(_LEGACY)


def test_given_a_bare_cursor_state_then_it_becomes_the_global_state() -> None:
    migration = _migration()
    state = {"updated_at": "2024-05-01T00:00:00Z"}
    assert migration.should_migrate(state)
    assert migration.migrate(state)["state"] == {"updated_at": "2024-05-01T00:00:00Z"}


def test_given_this_connectors_own_state_or_none_then_nothing_is_migrated() -> None:
    own = {"use_global_cursor": True, "state": {"updated_at": "2024-05-01T00:00:00Z"}, "parent_state": {}}
    assert not _migration().should_migrate(own)
    assert not _migration().should_migrate({})


def test_given_per_partition_state_without_cursor_values_then_the_state_is_dropped() -> None:
    assert _migration().migrate({"states": []}) == {}


def test_given_a_1_2_x_global_state_without_parent_state_then_the_parent_state_is_added() -> None:
    legacy = {"use_global_cursor": True, "state": {"updated_at": "2024-05-01T00:00:00Z"}, "lookback_window": 3}
    migration = _migration("estimates")
    assert migration.should_migrate(legacy)
    assert migration.migrate(legacy)["parent_state"] == {"estimates": {"updated_at": "2024-05-01T00:00:00Z"}}
    assert not _migration().should_migrate(legacy)  # no incremental parent: the state is already this connector's
