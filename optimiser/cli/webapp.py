"""``optimiser app``: serve the planner's web app (Streamlit) on this machine only."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
import webbrowser
from importlib import resources
from pathlib import Path
from typing import Annotated

import typer

from optimiser.cli.common import DirArg, console, load_or_exit

#: Streamlit settings: this machine only, no telemetry, no file watcher, no deploy menu.
SERVER_FLAGS = (
    "--server.address=127.0.0.1",
    "--server.headless=true",
    "--browser.gatherUsageStats=false",
    "--server.fileWatcherType=none",
    "--server.runOnSave=false",
    "--client.toolbarMode=minimal",
    "--global.developmentMode=false",
    "--theme.base=light",
)


def script_path() -> Path:
    """The app's Streamlit script (``optimiser/app/main.py``)."""
    return Path(str(resources.files("optimiser") / "app" / "main.py"))


def streamlit_command(path: Path | None, port: int) -> list[str]:
    """The command that serves the app for ``path`` (None = the embedded data) on ``port``."""
    cmd = [sys.executable, "-m", "streamlit", "run", str(script_path()), *SERVER_FLAGS]
    cmd.append(f"--server.port={port}")
    if path is not None:
        cmd += ["--", str(path.resolve())]
    return cmd


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def _open_when_up(url: str, port: int, timeout_s: float = 60.0) -> None:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if not _port_free(port):
            webbrowser.open(url)
            return
        time.sleep(0.3)


def app_cmd(
    path: DirArg = None,
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.", min=1024, max=65535)] = 8501,
    no_browser: Annotated[
        bool, typer.Option("--no-browser", help="Do not open a browser (servers, tests).")
    ] = False,
) -> None:
    """Serve the planner's web app on http://127.0.0.1:PORT (offline; Ctrl+C stops it)."""
    if path is not None:
        load_or_exit(path)  # a bad folder is reported here, not in the browser
    if not _port_free(port):
        console.print(f"[red]Port {port} is in use[/red]: give another with --port.")
        raise typer.Exit(1)
    url = f"http://127.0.0.1:{port}"
    console.print(f"optimiser app on {url} (this machine only; Ctrl+C stops it)")
    if not no_browser:
        threading.Thread(target=_open_when_up, args=(url, port), daemon=True).start()
    try:
        code = subprocess.call(streamlit_command(path, port))
    except KeyboardInterrupt:
        code = 0
    raise typer.Exit(code)
