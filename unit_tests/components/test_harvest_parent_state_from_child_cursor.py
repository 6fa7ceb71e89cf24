from __future__ import annotations

from components import HarvestParentStateFromChildCursor

_MIGRATION = HarvestParentStateFromChildCursor(config={}, parameters={}, parent_stream="user_assignments")


def test_given_a_child_cursor_and_a_lookback_window_then_the_parent_starts_where_the_children_do() -> None:
    state = {
        "use_global_cursor": True,
        "state": {"updated_at": "2024-02-01T00:00:00Z"},
        "lookback_window": 30,
        "parent_state": {},
    }
    assert _MIGRATION.should_migrate(state)
    assert _MIGRATION.migrate(state) == {
        **state,
        "parent_state": {"user_assignments": {"updated_at": "2024-01-31T23:59:30Z"}},
    }


def test_given_a_saved_parent_position_then_the_child_cursor_replaces_it_and_other_parents_stay() -> None:
    state = {
        "state": {"updated_at": "2024-02-01T00:00:00Z"},
        "parent_state": {"user_assignments": {"updated_at": "2025-01-01T00:00:00Z"}, "users": {"x": 1}},
    }
    assert _MIGRATION.migrate(state)["parent_state"] == {
        "user_assignments": {"updated_at": "2024-02-01T00:00:00Z"},
        "users": {"x": 1},
    }


def test_given_no_child_cursor_then_the_state_is_left_alone() -> None:
    assert not _MIGRATION.should_migrate({})
    assert not _MIGRATION.should_migrate({"use_global_cursor": True, "state": {}})
    assert not _MIGRATION.should_migrate({"state": {"updated_at": "yesterday"}})
