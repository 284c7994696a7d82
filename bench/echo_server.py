"""The bare baseline for HTTP: aiohttp + orjson reading the same body and echoing it back."""

from __future__ import annotations

import sys

import orjson
from aiohttp import web


async def echo(request: web.Request) -> web.Response:
    document = orjson.loads(await request.read())
    return web.Response(body=orjson.dumps(document), content_type="application/json")


def main() -> None:
    app = web.Application(client_max_size=16 * 1024 * 1024)
    app.router.add_post("/fsi/api/rsfComIfsService/callService", echo)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)


if __name__ == "__main__":
    main()
