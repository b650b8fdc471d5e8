"""Vigil's streaming side: the Faust app, its topics and agents, sinks, sources and CLI."""
