#!/usr/bin/env python3
"""Serves this page and its pkg/ and passes /events through to the demo server.

    python3 serve.py --upstream http://127.0.0.1:PORT [--port 0] [--root DIR]

The demo server sends no CORS headers, so the page and the event stream must
share an origin: this server gives them one. /events (with its query and any
Last-Event-ID header) is fetched from the upstream and streamed back read by
read, each piece flushed as it arrives, so the browser sees the chunks the
demo server wrote. Everything else is a static file from --root (default:
this directory). Prints its URL, then serves until killed.
"""

import argparse
import http.server
import os
import sys
import urllib.error
import urllib.request


class Handler(http.server.SimpleHTTPRequestHandler):
    upstream = ""
    extensions_map = {
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".wasm": "application/wasm",
        ".js": "text/javascript",
    }

    def do_GET(self):
        if self.path == "/events" or self.path.startswith("/events?"):
            self.proxy()
        else:
            super().do_GET()

    def end_headers(self):
        self.send_header("cache-control", "no-store")
        super().end_headers()

    def proxy(self):
        request = urllib.request.Request(self.upstream.rstrip("/") + self.path)
        last_event_id = self.headers.get("last-event-id")
        if last_event_id is not None:
            request.add_header("last-event-id", last_event_id)
        try:
            upstream = urllib.request.urlopen(request, timeout=30)
        except urllib.error.HTTPError as e:
            self.send_error(e.code, e.reason)
            return
        except OSError as e:
            self.send_error(502, f"upstream: {e}")
            return
        with upstream:
            # HTTP/1.0 and no content-length: the body ends when we close.
            self.send_response(upstream.status)
            for name in ("content-type", "x-accel-buffering"):
                value = upstream.headers.get(name)
                if value is not None:
                    self.send_header(name, value)
            self.end_headers()
            while True:
                piece = upstream.read1(65536)
                if not piece:
                    break
                self.wfile.write(piece)
                self.wfile.flush()

    def log_message(self, format, *args):
        sys.stderr.write("serve.py: " + (format % args) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upstream", required=True, help="the demo server, http://127.0.0.1:PORT")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--root", default=os.path.dirname(os.path.abspath(__file__)))
    args = parser.parse_args()
    Handler.upstream = args.upstream
    os.chdir(args.root)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    print(f"serving {args.root} on http://127.0.0.1:{server.server_port}/ "
          f"(/events from {args.upstream})", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
