"""The HTTP side: CloudStack's API at /client/api (GET or form-encoded POST, signed), and the
simulator's own admin API under /_simulator/ (faults, reset, health).

Requests are logged without their secrets: apiKey, signature, user data, keys and passwords
show as "***"."""
import collections
import contextlib
import hmac
import json
import logging
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from . import __version__, api, errors, params, seed, signing
from .faults import FaultError

MAX_BODY = 1024 * 1024
MAX_FIELDS = 1000
API_PATHS = ("/client/api", "/client/api/")
ADMIN_HEADER = "X-Simulator-Secret"
_SECRET_PARAMS = {"apikey", "signature", "userdata", "publickey", "privatekey", "password", "secretkey", "sessionkey"}

_QUERY = re.compile(r"\?\S*")

log = logging.getLogger("cloudstack_simulator.http")


class BadRequest(Exception):
    def __init__(self, status, text):
        super().__init__(text)
        self.status = status
        self.text = text


def redacted(fields):
    """Request parameters fit for a log line: secrets hidden, long values cut."""
    shown = []
    for name, value in fields.items():
        if name.lower() in _SECRET_PARAMS:
            value = "***"
        elif len(value) > 80:
            value = value[:77] + "..."
        shown.append(f"{name}={value}")
    return "&".join(shown)


class Simulator(ThreadingHTTPServer):
    """The server and what its requests share: the store, the faults and the credentials."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, store, faults, credentials):
        super().__init__(address, Handler)
        self.store = store
        self.faults = faults
        self.credentials = credentials  # apiKey -> secret
        # {command: requests} since start or the last DELETE /_simulator/calls, so that tests can
        # count what a client asked for (a reactor's cloud calls per run).
        self.calls = collections.Counter()
        self.calls_lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    server_version = f"CloudStackSimulator/{__version__}"
    protocol_version = "HTTP/1.1"  # keep-alive, as `cs` uses a requests.Session

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin  # the signature is http.server's
        # http.server's own lines quote the request line: drop its query (apiKey, signature).
        log.debug("%s %s", self.address_string(), _QUERY.sub("?...", format % args))

    # --- plumbing -------------------------------------------------------------------------

    def _send(self, status, body, content_type="application/json; charset=UTF-8", close=False):
        data = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")
        reason = {200: "OK", 503: "Service Unavailable", 404: "Not Found", 413: "Payload Too Large"}.get(status, "")
        self.send_response(status, reason)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        try:
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up (a timeout, often one the delay fault provoked).
            log.info("the client left before the response to %s %s", self.command, self.path.split("?")[0])
            self.close_connection = True

    def _body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            raise BadRequest(411, "chunked request bodies are not supported; send a Content-Length")
        length = self.headers.get("Content-Length")
        if length is None:
            return b""
        try:
            length = int(length)
        except ValueError:
            raise BadRequest(400, "bad Content-Length") from None
        if length > MAX_BODY:
            raise BadRequest(413, f"request body over {MAX_BODY} bytes")
        return self.rfile.read(length)

    @staticmethod
    def _form(text):
        """Name -> first value, in order (Java's getParameterMap()[name][0])."""
        fields = {}
        try:
            pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FIELDS)
        except ValueError:
            raise BadRequest(400, f"more than {MAX_FIELDS} parameters") from None
        for name, value in pairs:
            fields.setdefault(name, value)
        return fields

    def _route(self):
        started = time.monotonic()
        url = urlsplit(self.path)
        try:
            body = self._body()
            if url.path in API_PATHS:
                self._api(url, body, started)
            elif url.path.startswith("/_simulator/"):
                self._admin(url.path[len("/_simulator/"):], body)
            else:
                self._send(404, {"error": f"nothing at {url.path}; CloudStack's API is at /client/api"})
        except BadRequest as e:
            log.warning("%s %s refused: %s", self.command, url.path, e.text)
            self._send(e.status, {"error": e.text}, close=True)

    do_GET = do_POST = do_DELETE = do_HEAD = _route

    # --- CloudStack's API ------------------------------------------------------------------

    def _api(self, url, body, started):
        if self.command not in ("GET", "POST"):
            self._send(405, {"error": "CloudStack's API takes GET or POST"})
            return
        faults = self.server.faults
        down = faults.down()
        if down == "close":
            log.info("%s /client/api: dropped the connection (fault: down=close)", self.command)
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        if down == "503":
            self._send(503, b"<html><body><h1>503 Service Unavailable</h1></body></html>", "text/html; charset=UTF-8", close=True)
            log.info("%s /client/api: 503 (fault: down=503)", self.command)
            return
        query = self._form(url.query)
        if self.command == "POST" and body:
            for name, value in self._form(body.decode("utf-8", errors="replace")).items():
                query.setdefault(name, value)
        command = params.lowered(query).get("command", "")
        with self.server.calls_lock:
            self.server.calls[command or "(no command)"] += 1
        delay = faults.delay(command)
        # A delayed request is applied after the delay whether or not its client is still there,
        # as CloudStack goes on with a call whose client went away.
        with faults.holding(command) if delay else contextlib.nullcontext():
            if delay:
                time.sleep(delay)
            why = signing.verify(query, self.server.credentials)
            if why is not None:
                status, response = errors.UNAUTHORIZED, errors.ApiError(errors.UNAUTHORIZED, errors.AUTH_ERROR_TEXT).body()
                log.warning("refused %s: %s", command or "(no command)", why)
            else:
                status, response = api.handle(self.server.store, faults, command, query, self.command)
        self._send(status, {api.response_name(command): response})
        outcome = f"{status}" if status == 200 else f"{status} {response.get('errortext', '')}"
        log.info("%s %s -> %s (%.3fs) %s", self.command, command or "(no command)", outcome, time.monotonic() - started, redacted(query))

    # --- the simulator's admin API ---------------------------------------------------------

    def _admin(self, what, body):
        if what == "health" and self.command in ("GET", "HEAD"):
            self._send(200, {"status": "ok", "version": __version__})
            return
        sent = self.headers.get(ADMIN_HEADER, "")
        secrets = list(self.server.credentials.values())
        if not any(hmac.compare_digest(sent.encode(), s.encode()) for s in secrets):
            self._send(401, {"error": f"send the API secret in the {ADMIN_HEADER} header"})
            return
        faults = self.server.faults
        if what == "faults" and self.command == "GET":
            self._send(200, faults.snapshot())
        elif what == "faults" and self.command == "POST":
            try:
                faults.update(json.loads(body or b"{}"))
            except (ValueError, FaultError) as e:
                self._send(400, {"error": str(e)})
                return
            log.info("faults now %s", faults.snapshot())
            self._send(200, faults.snapshot())
        elif what == "faults" and self.command == "DELETE":
            faults.clear()
            log.info("faults cleared")
            self._send(200, faults.snapshot())
        elif what == "calls" and self.command in ("GET", "DELETE"):
            with self.server.calls_lock:
                counted = dict(self.server.calls)
                if self.command == "DELETE":
                    self.server.calls.clear()
            self._send(200, counted)
        elif what == "reset" and self.command == "POST":
            seed.reset(self.server.store)
            faults.clear()
            log.info("state reset to the seed")
            self._send(200, {"status": "reset"})
        else:
            self._send(404, {"error": f"no {self.command} /_simulator/{what}; see devtools/cloudstack_simulator/README.md"})
