"""An ASGI middleware that refuses request bodies over a limit with 413, whether the client
declares its length or streams it chunked: a body is read into memory before any route sees it."""
import json


class BoundedBody:
    def __init__(self, app, limit):
        self.app, self.limit = app, limit

    async def _refuse(self, send):
        body = json.dumps({"error": "too_large", "detail": f"request bodies are at most {self.limit} bytes"}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await self._refuse(send)
            return
        seen, over = 0, False

        async def bounded_receive():
            # Past the limit the app is told the client went away, so that no route runs on a
            # cut body; whatever it answers is replaced by the 413. No more of the body is read.
            nonlocal seen, over
            if over:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    over = True
                    return {"type": "http.disconnect"}
            return message

        replaced = False

        async def bounded_send(message):
            nonlocal replaced
            if not over:
                await send(message)
            elif not replaced:
                replaced = True
                await self._refuse(send)

        try:
            await self.app(scope, bounded_receive, bounded_send)
        except Exception:  # pylint: disable=broad-exception-caught  # the app's complaint about the cut body
            if not over:
                raise
        if over and not replaced:
            await self._refuse(send)
