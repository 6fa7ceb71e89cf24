"""The `source-harvest` console command: the declarative Harvest source with its own spec, run locally."""
