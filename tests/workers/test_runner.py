"""The worker loop's decisions (retry, give up, hand back), with a stand-in rescorer."""

from __future__ import annotations

import asyncio
import uuid

from workers.queue import Task
from workers.queue_memory import MemoryTaskQueue
from workers.runner import Worker
from workers.task import Result, TaskFailed, TaskOutcome


class Rescorer:
    """Fails (or blocks) as told; records what the worker asked of it."""

    def __init__(self, *, fail: bool = False, block: asyncio.Event | None = None) -> None:
        self.fail_runs = fail
        self.block = block
        self.started = asyncio.Event()
        self.runs: list[Task] = []
        self.failed: list[tuple[Task, str]] = []
        self.given_up = asyncio.Event()

    async def run(self, task: Task) -> TaskOutcome:
        self.runs.append(task)
        self.started.set()
        if self.block is not None:
            await self.block.wait()
        if self.fail_runs:
            raise TaskFailed("the stored audio is missing")
        return TaskOutcome(Result.DONE)

    async def fail(self, task: Task, reason: str) -> TaskOutcome:
        self.failed.append((task, reason))
        self.given_up.set()
        return TaskOutcome(Result.FAILED)


async def until_given_up(worker: Worker, rescorer: Rescorer) -> None:
    """Run `worker` until it gives a task up; stopping lets it finish that task."""
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    await asyncio.wait_for(rescorer.given_up.wait(), 10)
    stop.set()
    await asyncio.wait_for(running, 10)


async def test_a_failing_task_is_tried_max_attempts_times_then_given_up_once() -> None:
    queue = MemoryTaskQueue(wait_s=0.05)
    rescorer = Rescorer(fail=True)
    worker = Worker(queue=queue, rescorer=rescorer, name="w", max_attempts=3)  # type: ignore[arg-type]
    task = Task(uuid.uuid4(), uuid.uuid4())
    await queue.enqueue([task])
    await until_given_up(worker, rescorer)
    assert len(rescorer.runs) == 3
    ((failed, reason),) = rescorer.failed
    assert (failed.session_id, reason) == (task.session_id, "the stored audio is missing")
    assert await queue.pending() == 0
    (dead,) = await queue.dead()
    assert (dead.task.session_id, dead.attempts) == (task.session_id, 3)


async def test_a_task_delivered_past_max_attempts_is_given_up_without_running() -> None:
    queue = MemoryTaskQueue(wait_s=0.05)
    rescorer = Rescorer()
    worker = Worker(queue=queue, rescorer=rescorer, name="w", max_attempts=3)  # type: ignore[arg-type]
    await queue.enqueue([Task(uuid.uuid4(), uuid.uuid4(), failures=3)])
    await until_given_up(worker, rescorer)
    assert rescorer.runs == []
    assert rescorer.failed[0][1] == "no outcome after 3 deliveries"


async def test_stopping_hands_back_a_task_that_does_not_finish_in_the_grace_time() -> None:
    queue = MemoryTaskQueue(wait_s=0.05)
    rescorer = Rescorer(block=asyncio.Event())
    worker = Worker(queue=queue, rescorer=rescorer, name="w")  # type: ignore[arg-type]
    task = Task(uuid.uuid4(), uuid.uuid4())
    await queue.enqueue([task])
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop, grace_s=0.1))
    await asyncio.wait_for(rescorer.started.wait(), 5)
    stop.set()
    await asyncio.wait_for(running, 5)
    back = await queue.receive("next")
    assert back is not None and back.task == task and back.attempt == 1
