#!/usr/bin/env python3
"""Opens the page in headless Chromium and waits until it has decoded the stream.

    python3 read_page.py URL RESULT_FILE [--chromium PATH] [--timeout S] [--screenshot PNG]

Chromium is driven over the DevTools protocol through a pipe
(--remote-debugging-pipe: commands on its fd 3, replies on its fd 4, each
message JSON ending in NUL), so nothing beyond the standard library is
needed. The script polls the page's #status until it says "done: ..." or
"error: ...", writes the text of #result to RESULT_FILE, prints the status,
and exits 0 only for "done: ..."; --screenshot also saves the page as a PNG.
--dump-dom does not serve here: it can
dump the page while the fetched body is still streaming.
"""

import argparse
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-pipe",
]


class Browser:
    """A Chromium process and its DevTools pipe."""

    def __init__(self, chromium, profile, log):
        to_browser_r, self.to_browser = os.pipe()
        self.from_browser, from_browser_w = os.pipe()
        # bash puts the two pipe ends on the fds Chromium expects.
        script = f'exec "$@" 3<&{to_browser_r} 4>&{from_browser_w}'
        self.proc = subprocess.Popen(
            ["bash", "-c", script, "chromium", chromium, *FLAGS,
             f"--user-data-dir={profile}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log,
            pass_fds=(to_browser_r, from_browser_w),
        )
        os.close(to_browser_r)
        os.close(from_browser_w)
        self.buffer = b""
        self.next_id = 0

    def call(self, method, params=None, session=None, deadline=None):
        """Sends a command and returns its result; events in between are skipped."""
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self.to_browser, json.dumps(message).encode() + b"\0")
        while True:
            reply = self.receive(deadline)
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})

    def receive(self, deadline):
        while b"\0" not in self.buffer:
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError("no reply from Chromium in time")
            chunk = os.read(self.from_browser, 65536)
            if not chunk:
                raise RuntimeError("Chromium closed its DevTools pipe (did it start?)")
            self.buffer += chunk
        message, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(message)

    def close(self):
        try:
            self.call("Browser.close", deadline=time.monotonic() + 5)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self.to_browser)
        os.close(self.from_browser)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("result_file")
    parser.add_argument("--chromium", default="chromium")
    parser.add_argument("--timeout", type=float, default=60, help="seconds for the whole page")
    parser.add_argument("--screenshot", help="also save the finished page here, as PNG")
    args = parser.parse_args()

    profile = tempfile.mkdtemp(prefix="wasm-browser-profile-")
    log_path = os.path.join(profile, "chromium.log")
    deadline = time.monotonic() + args.timeout
    status, result = "", ""
    with open(log_path, "w") as log:
        browser = Browser(args.chromium, profile, log)
        try:
            target = browser.call("Target.createTarget", {"url": args.url}, deadline=deadline)
            session = browser.call(
                "Target.attachToTarget", {"targetId": target["targetId"], "flatten": True},
                deadline=deadline,
            )["sessionId"]
            read = ("JSON.stringify([document.getElementById('status')?.textContent ?? '',"
                    " document.getElementById('result')?.textContent ?? ''])")
            while time.monotonic() < deadline:
                evaluated = browser.call(
                    "Runtime.evaluate", {"expression": read, "returnByValue": True},
                    session=session, deadline=deadline,
                )
                status, result = json.loads(evaluated["result"].get("value", '["", ""]'))
                if status.startswith(("done:", "error:")):
                    break
                time.sleep(0.1)
            else:
                status = f"error: not done after {args.timeout:g} s; the page says {status!r}"
            if args.screenshot:
                shot = browser.call("Page.captureScreenshot", {"format": "png"},
                                    session=session, deadline=deadline)
                with open(args.screenshot, "wb") as png:
                    png.write(base64.b64decode(shot["data"]))
        except (RuntimeError, TimeoutError) as e:
            status = status or f"error: {e}"
        finally:
            browser.close()
    with open(log_path) as log:
        chromium_log = log.read()
    shutil.rmtree(profile, ignore_errors=True)

    with open(args.result_file, "w", encoding="utf-8") as out:
        out.write(result)
    print(status or "error: the page never set #status")
    if not status.startswith("done:"):
        sys.stderr.write("chromium's output (tail):\n" + chromium_log[-3000:])
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
