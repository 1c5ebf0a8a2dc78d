"""The Discord face of the core: slash commands, a message context menu, embeds, DMs.

`run.run_discord(core, settings, stop)` is what `isofficial run` starts.
"""
