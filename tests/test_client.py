"""The grading kernel client: a reply that a poll failed to notice is still read in time."""

import asyncio
import time
from queue import Empty

import pytest
import zmq
import zmq.asyncio
from jupyter_client.channels import AsyncZMQSocketChannel
from jupyter_client.session import Session

from nnlib.course import client
from nnlib.course.preprocessors import GuardedExecute


class DeafSocket:
    """A socket whose first poll sleeps through its whole timeout, as a missed wake-up does."""

    def __init__(self, socket):
        self.socket, self.polls = socket, 0

    async def poll(self, timeout=None):
        self.polls += 1
        if self.polls == 1:
            await asyncio.sleep((timeout or 0) / 1000)
            return 0
        return await self.socket.poll(timeout)

    def __getattr__(self, name):
        return getattr(self.socket, name)


def _wait(channel_class, timeout, send=True):
    """(message type or 'Empty', seconds) of one get_msg on a channel with a deaf first poll."""
    async def main():
        context = zmq.asyncio.Context()
        sender, receiver = context.socket(zmq.PAIR), context.socket(zmq.PAIR)
        sender.bind("inproc://test-client")
        receiver.connect("inproc://test-client")
        session = Session()
        if send:
            session.send(sender, "execute_reply", {"status": "ok"})
        channel = channel_class(receiver, session)
        channel.socket = DeafSocket(receiver)
        start = time.monotonic()
        try:
            got = (await channel.get_msg(timeout=timeout))["msg_type"]
        except Empty:
            got = "Empty"
        finally:
            context.destroy(linger=0)
        return got, time.monotonic() - start
    return asyncio.run(main())


def test_missed_wake_up_costs_one_slice():
    """Does a reply that the first poll missed arrive after one slice, not at the timeout?"""
    got, seconds = _wait(client.SlicedChannel, timeout=30)
    assert got == "execute_reply"
    assert seconds < 10 * client.SLICE, f"read after {seconds:.1f} s"


def test_unsliced_channel_misses_it():
    """Is the missed wake-up real for jupyter_client's own channel (the failure cured here)?"""
    got, _ = _wait(AsyncZMQSocketChannel, timeout=2 * client.SLICE)
    assert got == "Empty"


def test_wait_with_nothing_ends_at_its_timeout():
    """Does a wait with no message raise Empty at its own timeout, not after the first slice?"""
    got, seconds = _wait(client.SlicedChannel, timeout=3 * client.SLICE, send=False)
    assert got == "Empty"
    assert seconds >= 3 * client.SLICE


@pytest.mark.parametrize("channel", ["shell_channel", "iopub_channel", "stdin_channel", "control_channel"])
def test_grading_executes_with_sliced_channels(channel):
    """Does the grading pipeline's Execute talk to the kernel through sliced channels?"""
    manager = GuardedExecute().kernel_manager_class(kernel_name="python3")
    assert isinstance(getattr(manager.client(), channel), client.SlicedChannel)
