from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor, wait

import pytest
from airbyte_cdk.sources.concurrent_source.thread_pool_manager import ThreadPoolManager

import components
from components import PRUNE_FUTURES_FROM, prune_finished_partition_futures_early

ORIGINAL = ThreadPoolManager._prune_futures.__wrapped__  # type: ignore[attr-defined]


def _fail(message: str) -> None:
    raise ValueError(message)


def _manager(max_concurrent_tasks: int = 10_000) -> ThreadPoolManager:
    return ThreadPoolManager(ThreadPoolExecutor(2), logging.getLogger("test"), max_concurrent_tasks)


def _run(manager: ThreadPoolManager, count: int, failing: tuple[int, ...] = ()) -> None:
    for index in range(count):
        if index in failing:
            manager.submit(_fail, f"partition {index} failed")
        else:
            manager.submit(lambda: None)
    wait(manager._futures)


def test_given_components_imported_then_the_cdk_pool_uses_the_patched_prune() -> None:
    assert getattr(ThreadPoolManager._prune_futures, components._PATCHED) is True


def test_given_more_finished_futures_than_the_floor_when_pruned_then_none_is_kept() -> None:
    manager = _manager()
    _run(manager, PRUNE_FUTURES_FROM + 500)
    assert manager.prune_to_validate_has_reached_futures_limit() is False
    assert manager._futures == []


def test_given_fewer_finished_futures_than_the_floor_when_pruned_then_they_wait_for_the_next_prune() -> None:
    manager = _manager()
    _run(manager, PRUNE_FUTURES_FROM - 1)
    manager.prune_to_validate_has_reached_futures_limit()
    assert len(manager._futures) == PRUNE_FUTURES_FROM - 1


def test_given_failed_futures_when_pruned_then_the_error_recorded_is_the_one_the_cdk_records() -> None:
    patched, cdk = _manager(), _manager(max_concurrent_tasks=5)  # the CDK prunes from its limit on
    for manager in (patched, cdk):
        _run(manager, PRUNE_FUTURES_FROM + 10, failing=(3, 700))
    patched.prune_to_validate_has_reached_futures_limit()
    ORIGINAL(cdk, cdk._futures)
    assert str(patched._most_recently_seen_exception) == str(cdk._most_recently_seen_exception)
    assert "partition 3 failed" in str(patched._most_recently_seen_exception)
    with pytest.raises(RuntimeError):
        patched.check_for_errors_and_shutdown()


def test_given_running_futures_when_pruned_then_they_are_kept_and_not_rescanned_until_the_list_doubles() -> None:
    manager = _manager()
    running: list[Future[object]] = [Future() for _ in range(PRUNE_FUTURES_FROM)]
    manager._futures.extend(running)
    manager.prune_to_validate_has_reached_futures_limit()
    assert manager._futures == running
    finished: Future[object] = Future()
    finished.set_result(None)
    manager._futures.append(finished)
    manager.prune_to_validate_has_reached_futures_limit()
    assert manager._futures[-1] is finished  # 1,001 futures: the next prune waits for 2,000


def test_given_the_patch_applied_again_then_it_does_not_wrap_itself() -> None:
    patched = ThreadPoolManager._prune_futures
    prune_finished_partition_futures_early()
    assert ThreadPoolManager._prune_futures is patched
