"""One chain client for the whole service, used by one request at a time: substrate-interface
is not thread-safe, and FastAPI runs sync routes in a thread pool. A client that failed is
dropped and the next request connects again."""
import contextlib
import threading

from ansible_collections.dinfra.chain.plugins.module_utils.chain import ChainClient, ChainError, ChainUnavailable


class ChainReader:
    def __init__(self, settings, connect=None):
        self.timeout = settings.timeout
        self._connect = connect or (lambda: ChainClient(settings.node_url, timeout=settings.timeout, read_at="finalized"))
        self._lock = threading.Lock()
        self._client = None

    @contextlib.contextmanager
    def client(self):
        """The client, for one request; ChainUnavailable when another request holds it longer
        than the chain timeout (a wait is bounded like any chain call)."""
        if not self._lock.acquire(timeout=self.timeout):
            raise ChainUnavailable(f"the chain client was busy for more than {self.timeout} s")
        try:
            if self._client is None:
                self._client = self._connect()
            try:
                yield self._client
            except ChainError:
                self.close_client()
                raise
        finally:
            self._lock.release()

    def close_client(self):
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):
                client.close()
