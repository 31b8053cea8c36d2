"""``python -m optimiser.schema [OUT]``: write docs/data-format.md from the schema."""

import sys
from pathlib import Path

from optimiser.schema.docs import render_markdown

out = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/data-format.md")
out.parent.mkdir(parents=True, exist_ok=True)
out.write_text(render_markdown(), encoding="utf-8")
print(f"wrote {out}")
