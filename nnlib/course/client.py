"""Kernel client whose waits cannot miss a message that has already arrived.

A wait for a kernel message is one `socket.poll(timeout)` in jupyter_client's asyncio channel.
That poll sometimes misses its wake-up: the reply is on the socket but the event loop is not
woken, so the client waits out the whole cell timeout (60 s while grading) and then interrupts a
kernel that was idle all along. It shows most after ipywidgets demo cells (`interact` drawing a
figure); a reproduction of 150 such cells each followed by a plain cell, two notebooks at a time
on 2 cores, stalled 13 times in 2,400 cells with nbclient's client, never in 2,100 with this one.

Here every wait is cut into slices of `SLICE` seconds, each a fresh poll, so a message missed by
one poll is read by the next. A wait still ends at its own timeout, or never when it has none.

Waiting for a new kernel ends with its kernel_info reply and one IOPub message (the channel is
connected): jupyter_client then also waits for 0.2 s of silence on IOPub, a fifth of a second per
submission that nothing needs, since nbclient and the judge read only the messages that answer
their own requests. And a killed kernel is looked for every 10 ms, not every 100 ms.
"""

import os
from queue import Empty
from time import monotonic

from jupyter_client import AsyncKernelManager
from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.channels import AsyncZMQSocketChannel
from traitlets import Type

from nnlib.course.forkserver import IPC_ENV

SLICE = 0.5


class SlicedChannel(AsyncZMQSocketChannel):
    """An asyncio channel whose `get_msg(timeout)` polls afresh every `SLICE` seconds."""

    async def get_msg(self, timeout=None):
        """Next message; raises queue.Empty after `timeout` seconds (None: wait for ever)."""
        deadline = None if timeout is None else monotonic() + timeout
        while True:
            left = SLICE if deadline is None else max(0.0, deadline - monotonic())
            try:
                return await super().get_msg(timeout=min(SLICE, left))
            except Empty:
                if deadline is not None and monotonic() >= deadline:
                    raise


class GradingKernelClient(AsyncKernelClient):
    """AsyncKernelClient with sliced waits on the shell, IOPub, stdin and control channels."""

    shell_channel_class = Type(SlicedChannel)
    iopub_channel_class = Type(SlicedChannel)
    stdin_channel_class = Type(SlicedChannel)
    control_channel_class = Type(SlicedChannel)

    async def wait_for_ready(self, timeout=None):
        """Return once the kernel answers kernel_info and IOPub delivers; RuntimeError if the
        kernel dies first or `timeout` seconds (None: no limit) pass."""
        deadline = None if timeout is None else monotonic() + timeout
        while True:
            self.kernel_info()
            try:
                reply = await self.shell_channel.get_msg(timeout=1)
            except Empty:
                reply = None
            if reply is not None and reply["msg_type"] == "kernel_info_reply":
                try:
                    await self.iopub_channel.get_msg(timeout=0.2)
                except Empty:
                    pass           # IOPub not connected yet: ask again
                else:
                    self._handle_kernel_info_reply(reply)
                    return
            if not await self._async_is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if deadline is not None and monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout:.0f} seconds")


class GradingKernelManager(AsyncKernelManager):
    """AsyncKernelManager whose `client()` is a GradingKernelClient.

    While this process grades in a sandbox (forkserver.IPC_ENV set), the kernel's sockets are unix
    sockets at that path prefix (ZMQ's ipc transport), reachable from here and from no other sandbox.
    """

    client_factory = Type(GradingKernelClient)

    async def _async_wait(self, pollinterval=0.01):
        """Return once the kernel process has ended, looking every `pollinterval` seconds."""
        await super()._async_wait(pollinterval)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        prefix = os.environ.get(IPC_ENV)
        if prefix:
            self.transport = "ipc"
            self.ip = prefix
