"""HTTP transport: the dialect's bytes POSTed to its endpoint, as a HIS's HTTP client sends them."""

from __future__ import annotations

import aiohttp

from gateway.mapping.model import Dialect, JsonDoc, Trade
from simulators.drivers.base import Delivery


class HttpTransport:
    def __init__(self, dialect: Dialect, base_url: str, *, connections: int = 64, timeout: float = 30.0) -> None:
        self.url = base_url.rstrip("/") + dialect.endpoint
        charset = dialect.encoding
        kind = "application/json" if isinstance(dialect.framing, JsonDoc) else "text/plain"
        self.headers = {"Content-Type": f"{kind};charset={charset}"}
        self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=connections),
                                              timeout=aiohttp.ClientTimeout(total=timeout))

    async def send(self, raw: bytes, trade: Trade) -> Delivery:
        try:
            async with self._session.post(self.url, data=raw, headers=self.headers) as response:
                body = await response.read()
                meta = f"HTTP {response.status}"
                if response.status != 200:
                    return Delivery(body=body, meta=meta,
                                    failure=f"{meta} from {self.url}: {body[:200].decode('utf-8', 'replace')}")
                return Delivery(body=body, meta=meta)
        except (TimeoutError, aiohttp.ClientError) as exc:
            return Delivery(body=b"", meta="no answer", failure=f"{self.url}: {type(exc).__name__} {exc}")

    async def close(self) -> None:
        await self._session.close()
