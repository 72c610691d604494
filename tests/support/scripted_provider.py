"""A tiny real HTTP server answering with scripted responses and recording every request.

For outcomes the local provider has no fault for (a 404, `code != 0`, a 408) and
for checking request bodies. Real sockets, real requests: nothing is mocked.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class ScriptedProvider:
    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.script: deque[tuple[int, str, dict]] = deque()
        self.default = (200, json.dumps({"code": 0, "message": "OK"}), {})
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length).decode()
                with owner._lock:
                    owner.requests.append(
                        {
                            "path": self.path,
                            "auth": self.headers.get("Authorization"),
                            "body": json.loads(body) if body else None,
                        }
                    )
                    status, text, headers = (
                        owner.script.popleft() if owner.script else owner.default
                    )
                payload = text.encode()
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def respond(self, status: int, text: str = "", headers: dict | None = None, times: int = 1):
        for _ in range(times):
            self.script.append((status, text, headers or {}))

    def __enter__(self) -> ScriptedProvider:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
