"""The Chain Reactor API's routes. Every answer is read from the finalised chain with the
collection's own code (module_utils/deployments.py, providers.py); a read that fails is a 503,
never an empty answer."""
import asyncio
import base64
import binascii
import hmac
import time
from typing import Annotated, Optional

import threading

from fastapi import Depends, FastAPI, Header, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ansible_collections.dinfra.chain.plugins.module_utils.chain import (
    PROVIDERS,
    SUBSCRIPTIONS,
    ChainError,
    ExtrinsicFailed,
    ExtrinsicRejected,
    ExtrinsicUncertain,
)
from ansible_collections.dinfra.chain.plugins.module_utils.deployments import STATES, records
from ansible_collections.dinfra.chain.plugins.module_utils.descriptors import (
    DescriptorError,
    SchemaCache,
    load,
    lone_surrogate,
    summarize,
)
from ansible_collections.dinfra.chain.plugins.module_utils.ipfs import ContentRefused, Gateway, GatewayMismatch, IpfsError
from ansible_collections.dinfra.chain.plugins.module_utils.providers import read_provider
from ansible_collections.dinfra.chain.plugins.module_utils.reports import ReportRefused, current_for, submit

from .bounded_body import BoundedBody
from .chain_reader import ChainReader
from .events import InvalidEventId, Stream, parse_event_id, start_position
from .models import (
    DeployedReport,
    Descriptor,
    DeploymentAt,
    DeploymentPage,
    FailedReport,
    Live,
    Problem,
    Provider,
    Ready,
    ReadAt,
    ReportResult,
    TerminatedReport,
)

# The most ids a provider's index is read with: far above any provider's deployments, and a
# bound on what one request can make the service read.
MAX_INDEX = 100_000
ERRORS = {401: {"model": Problem, "description": "No bearer token, or not one of the service's."},
          422: {"model": Problem, "description": "A parameter is malformed."},
          503: {"model": Problem, "description": "The chain could not be read; nothing was answered from a guess."}}
CURSOR_PREFIX = "after:"
# Event streams at once: each holds a chain connection and a thread.
MAX_STREAMS = 16
# Reports are small: their texts are at most 256 bytes of UTF-8.
MAX_BODY = 4096
REPORT_ERRORS = {**ERRORS,
                 404: {"model": Problem, "description": "No such deployment, or another provider's; nothing was sent."},
                 409: {"model": Problem, "description": "The chain refused the transition; `error` is the pallet's error name."},
                 413: {"model": Problem, "description": f"The body is over {MAX_BODY} bytes."}}


class Problems(Exception):
    def __init__(self, status, error, detail, errors=None):
        super().__init__(detail)
        self.status, self.error, self.detail, self.errors = status, error, detail, errors


def encode_cursor(last_id):
    return base64.urlsafe_b64encode(f"{CURSOR_PREFIX}{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor):
    """The last id of the previous page; Problems (422) when the cursor is not one of ours."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
        if text.startswith(CURSOR_PREFIX) and text[len(CURSOR_PREFIX):].isdigit():
            return int(text[len(CURSOR_PREFIX):])
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise Problems(422, "invalid_cursor", "cursor is not one this service gave out")


def as_deployment(record):
    return {**record, **{k: str(record[k]) for k in ("price_per_block", "deposit_remaining", "paid")}}


def create_app(settings, connect=None):
    """The ASGI app for these settings; `connect` makes a chain client (tests pass none)."""
    reader = ChainReader(settings, connect)
    app = FastAPI(title="DINFRA Chain Reactor API", version="1",
                  summary="A provider's deployments on a DINFRA chain, for a reactor in any language.",
                  description="Read from finalised chain state with the dinfra.chain collection's own code. "
                              "Chain text (names, access info, reasons) is attacker-controlled: treat it as text.")
    bearer = HTTPBearer(auto_error=False)

    def authorised(credentials: Annotated[Optional[HTTPAuthorizationCredentials], Depends(bearer)]):
        given = credentials.credentials.encode() if credentials else b""
        # Compared with every token, each in constant time, so that timing tells nothing.
        matched = False
        for token in settings.tokens:
            matched |= hmac.compare_digest(given, token.encode())
        if not matched:
            raise Problems(401, "unauthorized", "a bearer token of this service is required")

    @app.exception_handler(Problems)
    async def problems(_request: Request, exc: Problems):
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        body = {"error": exc.error, "detail": exc.detail, **({"errors": exc.errors} if exc.errors else {})}
        return JSONResponse(body, status_code=exc.status, headers=headers)

    @app.exception_handler(ChainError)
    async def chain_error(_request: Request, exc: ChainError):
        # A report that may or may not have landed is not an unreadable chain: say which.
        name = ("report_uncertain" if isinstance(exc, ExtrinsicUncertain) else
                "report_rejected" if isinstance(exc, ExtrinsicRejected) else "chain_unavailable")
        return JSONResponse({"error": name, "detail": str(exc)}, status_code=503)

    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, exc: RequestValidationError):
        where = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:5])
        return JSONResponse({"error": "invalid_request", "detail": where}, status_code=422)

    def own_deployment(client, deployment_id, block_hash):
        """The provider's deployment's record. Another provider's is answered as no deployment
        (404): ids tell nothing."""
        try:
            return current_for(client, deployment_id, settings.provider, block_hash)
        except ReportRefused:
            raise Problems(404, "not_found", f"this provider has no deployment {deployment_id}") from None

    def read_at(client):
        block_hash, number = client.head()
        return block_hash, ReadAt(block=number, block_hash=block_hash)

    @app.get("/v1/health/live", operation_id="getLive", tags=["health"], response_model=Live)
    def live():
        """The process answers. No token needed; says nothing about the chain."""
        return {"status": "ok"}

    @app.get("/v1/health/ready", operation_id="getReady", tags=["health"], response_model=Ready,
             responses={503: {"model": Ready, "description": "The chain cannot be read."}})
    def ready():
        """The finalised chain can be read, and how old its head is. No token needed."""
        try:
            with reader.client() as client:
                block_hash, at = read_at(client)
                now_ms = client.query("Timestamp", "Now", [], block_hash)
        except ChainError as exc:
            return JSONResponse(Ready(ready=False, detail=str(exc)).model_dump(), status_code=503)
        age = round(time.time() - now_ms / 1000, 1) if now_ms else None
        return Ready(ready=True, finalised=at, head_age_seconds=age)

    @app.get("/v1/provider", operation_id="getProvider", tags=["provider"], response_model=Provider, dependencies=[Depends(authorised)],
             responses={**ERRORS, 404: {"model": Problem, "description": "The provider is not registered."}})
    def provider():
        """The provider this service serves: its status and offers."""
        with reader.client() as client:
            block_hash, at = read_at(client)
            found = read_provider(client, settings.provider, block_hash)
        if found is None:
            raise Problems(404, "not_registered", f"{settings.provider} is not a registered provider")
        offers = [{"type_id": t, **o, "price_per_block": str(o["price_per_block"])} for t, o in sorted(found["offers"].items())]
        return Provider(**{**found, "offers": offers}, read_at=at)

    @app.get("/v1/deployments", operation_id="listDeployments", tags=["deployments"], response_model=DeploymentPage, dependencies=[Depends(authorised)],
             responses=ERRORS)
    def deployments(state: Annotated[Optional[list[str]], Query(description=f"One of {', '.join(STATES)}; repeatable.")] = None,
                    type: Annotated[Optional[list[str]], Query(description="A deployment type name; repeatable.")] = None,  # noqa: A002  pylint: disable=redefined-builtin
                    cursor: Annotated[Optional[str], Query(max_length=64)] = None,
                    limit: Annotated[int, Query(ge=1, le=settings.max_page)] = 100):
        """The provider's deployments, oldest first, a page at a time."""
        unknown = sorted(set(state or ()) - set(STATES))
        if unknown:
            raise Problems(422, "invalid_request", f"unknown state(s) {', '.join(unknown)}: use {', '.join(STATES)}")
        after = decode_cursor(cursor) if cursor else -1
        page, more = [], False
        with reader.client() as client:
            block_hash, at = read_at(client)
            ids = sorted(i for i in client.query_keys(SUBSCRIPTIONS, "ProviderDeployments", [settings.provider], block_hash,
                                                      MAX_INDEX) if i > after)
            # Records are read a page's worth at a time until the page is full: filters can
            # leave most of a chunk out, and a page never reads all 10,000 when 100 will do.
            for start in range(0, len(ids), limit):
                chunk = records(client, ids[start:start + limit], block_hash)
                for deployment_id in ids[start:start + limit]:
                    record = chunk[deployment_id]
                    if record is None:
                        raise ChainError(f"deployment {deployment_id} is indexed for the provider but has no record")
                    if (not state or record["state"] in state) and (not type or record["type_name"] in type):
                        if len(page) == limit:
                            more = True
                            break
                        page.append(as_deployment(record))
                if more:
                    break
        next_cursor = encode_cursor(page[-1]["id"]) if more else None
        return DeploymentPage(deployments=page, next_cursor=next_cursor, read_at=at)

    @app.get("/v1/deployments/{deployment_id}", operation_id="getDeployment", tags=["deployments"], response_model=DeploymentAt,
             dependencies=[Depends(authorised)],
             responses={**ERRORS, 404: {"model": Problem, "description": "No such deployment, or another provider's."}})
    def deployment(deployment_id: Annotated[int, Path(ge=0, le=2**64 - 1)]):
        """One of the provider's deployments."""
        with reader.client() as client:
            block_hash, at = read_at(client)
            found = own_deployment(client, deployment_id, block_hash)
        return DeploymentAt(**as_deployment(found), read_at=at)

    gateway = Gateway(settings.ipfs_gateway, timeout=settings.ipfs_timeout, max_size=settings.descriptor_max_size)
    schemas = SchemaCache(settings.schema_cache)

    @app.get("/v1/deployments/{deployment_id}/descriptor", operation_id="getDescriptor", tags=["deployments"],
             response_model=Descriptor, dependencies=[Depends(authorised)],
             responses={**ERRORS,
                        404: {"model": Problem, "description": "No such deployment, or another provider's."},
                        422: {"model": Problem, "description": "invalid_request, or the descriptor cannot be served: "
                              "descriptor_refused (bad CID, too large) or descriptor_invalid (not strict JSON, or "
                              "against its schema; `errors` says where). Report the deployment failed with `detail`."},
                        502: {"model": Problem, "description": "gateway_mismatch: the gateway's bytes are not the "
                              "CID's. The gateway's fault, not the consumer's: try again later."},
                        503: {"model": Problem, "description": "chain_unavailable or ipfs_unavailable: try again later."}})
    def descriptor(deployment_id: Annotated[int, Path(ge=0, le=2**64 - 1)]):
        """The deployment's descriptor, served only when its bytes are the CID's and it is valid
        against its type's schema, so that a reactor never acts on anything else."""
        with reader.client() as client:
            block_hash, at = read_at(client)
            found = own_deployment(client, deployment_id, block_hash)
            kind = client.query(PROVIDERS, "DeploymentTypes", [found["type_id"]], block_hash)
        if kind is None:
            raise ChainError(f"deployment {deployment_id} has type {found['type_id']}, which the chain does not hold")
        try:
            document, size, errors = load(gateway, found["descriptor_cid"], kind["schema_cid"], schemas)
        except GatewayMismatch as exc:
            raise Problems(502, "gateway_mismatch", str(exc)) from None
        except ContentRefused as exc:
            raise Problems(422, "descriptor_refused", str(exc)) from None
        except DescriptorError as exc:
            raise Problems(422, "descriptor_invalid", str(exc)) from None
        except IpfsError as exc:
            raise Problems(503, "ipfs_unavailable", str(exc)) from None
        if errors:
            raise Problems(422, "descriptor_invalid", f"the descriptor does not match its schema: {summarize(errors)}",
                           errors=errors)
        where = lone_surrogate(document)
        if where or not isinstance(document, dict):
            raise Problems(422, "descriptor_invalid", f"the descriptor holds text that is not Unicode at {where}"
                           if where else "the descriptor is not a JSON object")
        return Descriptor(deployment_id=deployment_id, cid=found["descriptor_cid"], type_name=found["type_name"],
                          schema_cid=kind["schema_cid"], size=size, descriptor=document, read_at=at)

    def report(deployment_id, state, access_info="", reason=None):
        if settings.signer is None:
            raise Problems(503, "no_signer", "this service has no signer secret (DINFRA_SIGNER_SECRET_FILE): it serves reads only")
        with reader.client() as client:
            current = own_deployment(client, deployment_id, client.head()[0])
            try:
                result = submit(client, settings.signer, current, state, access_info, reason)
            except ExtrinsicFailed as exc:
                docs = " ".join(exc.docs) if isinstance(exc.docs, (list, tuple)) else (exc.docs or "")
                raise Problems(409, exc.error, f"the chain refused the report: {exc.pallet}.{exc.error}. {docs}".strip()) from None
        return ReportResult(changed=result["changed"], deployment=as_deployment(result["deployment"]),
                            block_hash=result.get("block_hash"))

    report_id = Annotated[int, Path(ge=0, le=2**64 - 1)]

    @app.post("/v1/deployments/{deployment_id}/reports/deployed", operation_id="reportDeployed", tags=["reports"],
              response_model=ReportResult, dependencies=[Depends(authorised)], responses=REPORT_ERRORS)
    def report_deployed(deployment_id: report_id, body: DeployedReport):
        """The deployment runs; `access_info` tells the consumer how to reach it. Idempotent:
        the same report again changes nothing. A new access info replaces the old one."""
        return report(deployment_id, "deployed", access_info=body.access_info)

    @app.post("/v1/deployments/{deployment_id}/reports/failed", operation_id="reportFailed", tags=["reports"],
              response_model=ReportResult, dependencies=[Depends(authorised)], responses=REPORT_ERRORS)
    def report_failed(deployment_id: report_id, body: FailedReport):
        """The deployment cannot be served, or stopped running; the rest of its deposit goes
        back to the consumer. Idempotent."""
        return report(deployment_id, "failed", reason=body.reason)

    @app.post("/v1/deployments/{deployment_id}/reports/terminated", operation_id="reportTerminated", tags=["reports"],
              response_model=ReportResult, dependencies=[Depends(authorised)], responses=REPORT_ERRORS)
    def report_terminated(deployment_id: report_id, body: TerminatedReport):  # pylint: disable=unused-argument
        """The deployment's resources are gone (after it turned terminating). Idempotent."""
        return report(deployment_id, "terminated")

    streams = threading.BoundedSemaphore(MAX_STREAMS)

    @app.get("/v1/events", operation_id="streamEvents", tags=["events"], dependencies=[Depends(authorised)],
             response_class=StreamingResponse,
             responses={**ERRORS, 200: {"description": (
                 "Server-Sent Events. `event: change`, with `id: <block>.<n>` and `data` "
                 "{kind, deployment_id, state, block, block_hash, provider}, kind one of awarded, running, "
                 "terminating, terminated, failed, deposit; and `event: resync` (no id), with `data` {kind: resync, "
                 "reason: start|gap|chain_changed, block, block_hash, provider}: reconcile everything. Events carry "
                 "ids, states and block numbers only, never chain text."),
                 "content": {"text/event-stream": {"schema": {"type": "string"}}}},
                 503: {"model": Problem, "description": "chain_unavailable, or too_many_streams."}})
    async def events(request: Request,
                     last_event_id: Annotated[Optional[str], Header(alias="Last-Event-ID", max_length=40)] = None,
                     after: Annotated[Optional[str], Query(max_length=40, description=(
                         "The same as a Last-Event-ID header, for clients that cannot set one."))] = None):
        """The provider's deployment changes at finalised blocks, for as long as the client
        listens. Reconnect with `Last-Event-ID` (or `after`) to get every change after it."""
        try:
            resume = parse_event_id(last_event_id or after) if (last_event_id or after) else None
        except InvalidEventId as exc:
            raise Problems(422, "invalid_request", str(exc)) from None
        if not streams.acquire(blocking=False):
            raise Problems(503, "too_many_streams", f"this service serves at most {MAX_STREAMS} event streams at once")
        try:
            def position():
                with reader.client() as client:
                    if resume and resume[0] > client.head()[1]:
                        raise Problems(422, "invalid_request", "Last-Event-ID is past the finalised head")
                    return start_position(client, resume)

            start, skip = await asyncio.to_thread(position)
            stream = Stream(settings, start, resume[0] if resume else None, skip)
        except BaseException:
            streams.release()
            raise

        async def body():
            try:
                async for chunk in stream.body(request):
                    yield chunk
            finally:
                streams.release()

        return StreamingResponse(body(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

    app.add_middleware(BoundedBody, limit=MAX_BODY)
    app.state.reader = reader
    return app
