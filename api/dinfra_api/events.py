"""The event stream (Server-Sent Events) of the provider's deployment changes at finalised
blocks: the collection's chain follower (module_utils/chain_follower.py), the one the EDA source
runs, with its position held per stream, in memory.

Each change has the id `<block>.<n>`: the n-th change of that block (a block's changes always
come in the same order). A client that reconnects with `Last-Event-ID` gets every change after
it, replayed from the chain: the rest of that block, then every later block. Resync events carry
no id, so that a client never resumes past a change it has not seen."""
import asyncio
import concurrent.futures
import json
import logging
import re
import threading

from ansible_collections.dinfra.chain.plugins.module_utils.chain import ChainClient
from ansible_collections.dinfra.chain.plugins.module_utils.chain_follower import DeploymentFollower, Stopped

LOGGER = logging.getLogger("dinfra_api.events")
EVENT_ID = re.compile(r"^(\d{1,10})\.(\d{1,6})$")
KEEP_ALIVE = 15.0
QUEUE = 256
PUT_WAIT = 1.0


class InvalidEventId(ValueError):
    pass


def parse_event_id(text):
    """(block, n) of an event id this service gave out; InvalidEventId otherwise."""
    found = EVENT_ID.match(text or "")
    if not found:
        raise InvalidEventId("Last-Event-ID is not an id of this stream (<block>.<n>)")
    return int(found.group(1)), int(found.group(2))


class StreamPosition:
    """The follower's position for one stream: where it starts, then where it is."""

    def __init__(self, start):
        self.at = start

    def load(self):
        return self.at

    def save(self, genesis, block, block_hash):
        self.at = {"genesis": genesis, "block": block, "block_hash": block_hash}


def start_position(client, resume):
    """The position to replay from for `resume` ((block, n) or None), and the number of changes
    of that block the client has seen."""
    if resume is None:
        return None, 0
    block, seen = resume
    if block == 0:
        return None, 0
    return {"genesis": client.block_hash(0), "block": block - 1, "block_hash": client.block_hash(block - 1)}, seen + 1


def sse(event, event_id=None):
    lines = ([f"id: {event_id}"] if event_id else []) + [
        f"event: {'resync' if event['kind'] == 'resync' else 'change'}", f"data: {json.dumps(event, sort_keys=True)}"]
    return ("\n".join(lines) + "\n\n").encode()


class Stream:
    """One client's stream: a follower in a thread of its own, handing events to the response
    through a bounded queue, so that a slow client slows its follower, never the service."""

    def __init__(self, settings, position, skip_block, skip):
        self.loop = asyncio.get_running_loop()
        self.queue = asyncio.Queue(QUEUE)
        self.stop = threading.Event()
        self._skip_block, self._skip = skip_block, skip
        self._block, self._n = None, 0
        self.follower = DeploymentFollower(
            connect=lambda: ChainClient(settings.node_url, timeout=settings.timeout, read_at="finalized"),
            provider=settings.provider, position=StreamPosition(position), emit=self._emit,
            log=lambda message: LOGGER.warning("%s", message), resync_interval=0, stop=self.stop)
        self.thread = threading.Thread(target=self.follower.run, name="dinfra-api-events", daemon=True)

    def _emit(self, event):
        event_id = None
        if event["kind"] != "resync":
            if event["block"] != self._block:
                self._block, self._n = event["block"], 0
            else:
                self._n += 1
            if event["block"] == self._skip_block and self._n < self._skip:
                return  # the client had it before it reconnected
            event_id = f"{event['block']}.{self._n}"
        future = asyncio.run_coroutine_threadsafe(self.queue.put(sse(event, event_id)), self.loop)
        while True:
            try:
                future.result(PUT_WAIT)
                return
            except concurrent.futures.TimeoutError:
                if self.stop.is_set():
                    future.cancel()
                    raise Stopped() from None

    async def body(self, request):
        self.thread.start()
        try:
            yield b": dinfra events\n\n"
            while True:
                try:
                    yield await asyncio.wait_for(self.queue.get(), KEEP_ALIVE)
                except asyncio.TimeoutError:
                    if await request.is_disconnected():
                        return
                    yield b": keep-alive\n\n"
        finally:
            self.stop.set()
