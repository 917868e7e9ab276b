"""A small HTTP/3 client over aioquic (PyPI), as a viewer would use one: it connects to
127.0.0.1 with the name it asks for by SNI, checks the certificate against a CA file, and
sends requests on one QUIC connection."""

import asyncio

from aioquic.asyncio.client import connect
from aioquic.asyncio.protocol import QuicConnectionProtocol
from aioquic.h3.connection import H3_ALPN, H3Connection
from aioquic.h3.events import DataReceived, HeadersReceived
from aioquic.quic.configuration import QuicConfiguration

from edge_helpers import Resp


class _Protocol(QuicConnectionProtocol):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.h3 = H3Connection(self._quic)
        self.streams = {}

    def quic_event_received(self, event):
        for ev in self.h3.handle_event(event):
            s = self.streams.get(getattr(ev, "stream_id", None))
            if s is None:
                continue
            if isinstance(ev, HeadersReceived):
                s["headers"] += ev.headers
            elif isinstance(ev, DataReceived):
                s["body"] += ev.data
            if getattr(ev, "stream_ended", False) and not s["done"].done():
                s["done"].set_result(None)

    async def request(self, method, authority, target, headers=(), body=b"", timeout=30):
        sid = self._quic.get_next_available_stream_id()
        done = asyncio.get_running_loop().create_future()
        self.streams[sid] = {"headers": [], "body": b"", "done": done}
        fields = [(b":method", method.encode()), (b":scheme", b"https"),
                  (b":authority", authority.encode()), (b":path", target.encode())]
        fields += [(k.lower().encode(), v.encode()) for k, v in headers]
        if body:
            # As browsers and curl send it.
            fields.append((b"content-length", str(len(body)).encode()))
        self.h3.send_headers(sid, fields, end_stream=not body)
        if body:
            self.h3.send_data(sid, body, end_stream=True)
        self.transmit()
        await asyncio.wait_for(done, timeout)
        s = self.streams.pop(sid)
        hdrs = {}
        for k, v in s["headers"]:
            k, v = k.decode(), v.decode()
            hdrs[k] = v if k not in hdrs else hdrs[k] + ", " + v
        return Resp(int(hdrs.pop(":status")), hdrs, s["body"])


async def _run(port, name, ca_file, requests):
    config = QuicConfiguration(is_client=True, alpn_protocols=H3_ALPN, server_name=name)
    config.load_verify_locations(str(ca_file))
    async with connect("127.0.0.1", port, configuration=config, create_protocol=_Protocol,
                       wait_connected=True) as client:
        return [await client.request(*r[:1], name, *r[1:]) for r in requests]


def req(target, method="GET", headers=(), body=b""):
    """One request for [`fetch`]: `headers` as (name, value) pairs."""
    return (method, target, tuple(headers), body)


def fetch(port, name, ca_file, requests, timeout=30):
    """Sends `requests` (made by [`req`]) in turn on one HTTP/3 connection to
    127.0.0.1:`port` as `name`; returns the responses."""
    return asyncio.run(asyncio.wait_for(_run(port, name, ca_file, requests), timeout))
