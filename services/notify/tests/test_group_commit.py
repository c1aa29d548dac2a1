"""The delivery loop's group commit (`dependencies.GroupCommit`): outcomes finishing close
together are recorded by one call, one call at a time, every outcome exactly once."""
import eventlet

from services.notify.dependencies import GroupCommit


def _recorder(seconds=0.01):
    calls, running = [], []

    def record(batch):
        assert not running, "two records at once"
        running.append(1)
        eventlet.sleep(seconds)  # the transaction's round trips
        calls.append(list(batch))
        running.pop()

    return calls, record


def test_outcomes_finishing_together_are_recorded_in_one_call():
    calls, record = _recorder()
    group = GroupCommit(record, 0.05)
    pool = eventlet.GreenPool()
    for n in range(20):  # twenty sends finishing 1 ms apart
        pool.spawn_n(group.add, n)
        eventlet.sleep(0.001)
    pool.waitall()
    assert sorted(n for batch in calls for n in batch) == list(range(20))
    assert len(calls) == 1


def test_a_steady_stream_is_recorded_in_groups_and_nothing_is_left_behind():
    calls, record = _recorder(seconds=0.02)
    group = GroupCommit(record, 0.03)
    pool = eventlet.GreenPool()
    for n in range(60):  # arrivals while a record is under way start the next group
        pool.spawn_n(group.add, n)
        eventlet.sleep(0.003)
    pool.waitall()
    assert sorted(n for batch in calls for n in batch) == list(range(60))
    assert 2 <= len(calls) <= 12 and group.finished == []


def test_without_linger_each_record_takes_what_finished_meanwhile():
    calls, record = _recorder()
    group = GroupCommit(record, 0)
    pool = eventlet.GreenPool()
    for n in range(5):
        pool.spawn_n(group.add, n)
    pool.waitall()
    assert sorted(n for batch in calls for n in batch) == list(range(5))
    assert calls[0] == [0] and len(calls) == 2  # the rest waited for the slot, together
