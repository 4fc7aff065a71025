"""The dashboard's browser assets: the npm packages solara's page loads from its CDN, and
fetching them into solara's CDN cache with ``npm pack`` so that the page works offline.

Solara serves its page's JavaScript and CSS through a caching proxy of a public CDN; a machine
without that CDN (a closed network, CI) gets the same files from the npm registry.
``cohesion dashboard`` (experiments/dashboard.py, ``serve``) calls ``fetch_assets`` before serving.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import solara


def cdn_packages() -> list[str]:
    """The npm packages (name@version) the page loads from solara's CDN, read off solara's page
    template and the grid layout that Mesa's SolaraViz uses."""
    import solara.server
    import solara.util

    root = Path(solara.__file__).parent
    grid = "gridlayout_v3.vue" if solara.util.IPYVUETIFY_V3 else "gridlayout.vue"
    sources = [(root / "server" / "templates" / "solara.html.j2").read_text(),
               (root / "widgets" / "vue" / grid).read_text()]
    pattern = r"(?:\{\{cdn\}\}|\$\{this\.getCdn\(\)\})/((?:@[\w.-]+/)?[\w.-]+@\d+\.\d+\.\d+[\w.+-]*)/"
    found = sorted({p for text in sources for p in re.findall(pattern, text)})
    from solara.server import settings

    if settings.assets.fontawesome_enabled:
        found += re.findall(r"^/?((?:@[\w.-]+/)?[\w.-]+@\d+\.\d+\.\d+)/", settings.assets.fontawesome_path)
    skip = "solara-vuetify-app@" if solara.util.IPYVUETIFY_V3 else "solara-vuetify3-app@"
    return [p for p in found if skip not in p]


def assets_cache() -> Path:
    """Solara's CDN cache folder (one sub-folder per package@version)."""
    from solara.server import settings

    return Path(settings.assets.proxy_cache_dir)


def missing_assets() -> list[str]:
    """The page's CDN packages not in the cache."""
    return [p for p in cdn_packages() if not (assets_cache() / p).is_dir()]


def fetch_assets() -> list[str]:
    """Put solara's browser assets in its CDN cache with ``npm pack``, so the page works offline.

    Returns the packages still missing (empty when all are there; all that were missing when
    npm is not installed).
    """
    missing = missing_assets()
    if not missing or shutil.which("npm") is None:
        return missing
    with tempfile.TemporaryDirectory() as tmp:
        for spec in missing:
            done = subprocess.run(["npm", "pack", spec, "--silent"], cwd=tmp, capture_output=True, text=True,
                                  timeout=300, check=False)
            if done.returncode != 0:
                print(f"npm pack {spec} failed: {done.stderr.strip()[-300:]}", file=sys.stderr)
                continue
            target = assets_cache() / spec
            with tarfile.open(Path(tmp) / done.stdout.strip().splitlines()[-1]) as tar:
                tar.extractall(Path(tmp) / "x", filter="data")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copytree(Path(tmp) / "x" / "package", target, dirs_exist_ok=True)
            shutil.rmtree(Path(tmp) / "x")
    return missing_assets()
