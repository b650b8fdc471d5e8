"""What runs in a `vigil worker`: the Faust app, its agents and tables, the sink, the response hooks, the web API.

The worker never imports `streams.ops`.
"""
