"""Pure protocol translation: dicts in, dicts out; no I/O, no Sanic, no aiohttp.

Its modules run compiled by mypyc when a build matching these sources is installed (trayagent/compiled.py);
`RUNS_AS` says whether they do: "compiled", or "pure Python (why)".
"""

from trayagent import compiled

__path__, RUNS_AS = compiled.search_path(__path__)
