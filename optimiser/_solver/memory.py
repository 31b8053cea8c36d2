"""What memory the system has available, for choosing whether to fork a second solver."""

from __future__ import annotations


def available_memory_bytes() -> int | None:
    """The memory the system can give without swapping (``MemAvailable``), None if unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None
