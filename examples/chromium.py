"""Headless Chromium driven over the DevTools protocol, with aiohttp's websocket client.

For the board's browser test and its screenshot (``python -m examples.board_png``):
Debian's ``chromium`` package, started with a throw-away profile and a DevTools port of
its own, one page, ``navigate``, ``evaluate`` and ``screenshot``. Nothing is downloaded.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import itertools
import json
import shutil
import subprocess
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import anyio
import anyio.to_thread


def chromium_path() -> str | None:
    """The Chromium binary on PATH (Debian: ``chromium``), or None."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


class Page:
    """One page of the browser, over its DevTools websocket."""

    def __init__(self, socket: aiohttp.ClientWebSocketResponse[bool]) -> None:
        self._socket = socket
        self._ids = itertools.count(1)

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        """One DevTools command and its result (events in between are skipped)."""
        number = next(self._ids)
        await self._socket.send_json({"id": number, "method": method, "params": params})
        while True:
            message = json.loads((await self._socket.receive()).data)
            if message.get("id") == number:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return dict(message.get("result", {}))

    async def navigate(self, url: str) -> None:
        """Open `url`."""
        await self.call("Page.navigate", url=url)

    async def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page."""
        result = await self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def wait_for(self, expression: str, *, seconds: float = 15.0) -> Any:
        """Evaluate `expression` until it is truthy; its value (TimeoutError if never)."""
        with anyio.fail_after(seconds):
            while True:
                value = await self.evaluate(expression)
                if value:
                    return value
                await anyio.sleep(0.05)

    async def screenshot(self, path: Path, *, width: int, height: int) -> None:
        """A PNG of the page at width x height CSS pixels."""
        await self.call(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )
        shot = await self.call("Page.captureScreenshot", format="png")
        await anyio.Path(path).write_bytes(base64.b64decode(shot["data"]))


@contextlib.asynccontextmanager
async def chromium(binary: str | None = None) -> AsyncIterator[Page]:
    """A headless Chromium with one blank page; closed (and its profile removed) after."""
    binary = binary or chromium_path()
    if binary is None:
        raise FileNotFoundError("chromium is not installed (Debian: apt-get install chromium)")
    profile = tempfile.mkdtemp(prefix="aioconnectmetrics-chromium-")
    try:
        process = await anyio.open_process(
            [
                binary,
                "--headless=new",
                "--no-sandbox",  # as root in a container, Chromium's sandbox cannot start
                "--disable-gpu",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-extensions",
                "--remote-debugging-port=0",
                f"--user-data-dir={profile}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            port_file = anyio.Path(profile) / "DevToolsActivePort"
            with anyio.fail_after(30):
                while not await port_file.exists() or not (await port_file.read_text()).strip():
                    if process.returncode is not None:
                        raise RuntimeError(f"chromium exited with {process.returncode}")
                    await anyio.sleep(0.05)
            port = int((await port_file.read_text()).split()[0])
            async with aiohttp.ClientSession() as http:
                async with http.get(f"http://127.0.0.1:{port}/json/list") as response:
                    targets = await response.json()
                [target] = [t for t in targets if t["type"] == "page"][:1]
                async with http.ws_connect(
                    target["webSocketDebuggerUrl"], max_msg_size=64 * 2**20
                ) as socket:
                    yield Page(socket)
        finally:
            process.terminate()
            with anyio.move_on_after(10, shield=True):
                await process.wait()
            if process.returncode is None:
                process.kill()
                with anyio.CancelScope(shield=True):
                    await process.wait()
    finally:
        # Chromium's helper processes outlive the browser by a moment, still writing
        # into the profile: remove it once they are done (at most ~2 s).
        with anyio.CancelScope(shield=True):
            for _ in range(20):
                try:
                    await anyio.to_thread.run_sync(shutil.rmtree, profile)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    await anyio.sleep(0.1)
            else:
                await anyio.to_thread.run_sync(
                    functools.partial(shutil.rmtree, profile, ignore_errors=True)
                )
