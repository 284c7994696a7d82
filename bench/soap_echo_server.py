"""The bare baseline for SOAP: a spyne operation echoing two strings, served by aiohttp-spyne on aiohttp."""

from __future__ import annotations

import sys
from typing import Any

from aiohttp import web
from aiohttp_spyne.aio_spyne import AIOSpyne
from spyne import Application, ServiceBase, Unicode, rpc
from spyne.protocol.soap import Soap11

NAMESPACE = "http://www.dhcc.com.cn"


class EchoService(ServiceBase):  # type: ignore[misc]
    @rpc(Unicode, Unicode, _returns=(Unicode, Unicode), _out_variable_names=("action", "message"))  # type: ignore[untyped-decorator]
    def Echo(ctx: Any, action: str, message: str) -> tuple[str, str]:
        return action, message


def main() -> None:
    application = Application([EchoService], tns=NAMESPACE, in_protocol=Soap11(validator=None),
                              out_protocol=Soap11())
    handler = AIOSpyne(application)
    app = web.Application(client_max_size=16 * 1024 * 1024)
    app.router.add_post("/soap/echo", handler.post)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)


if __name__ == "__main__":
    main()
