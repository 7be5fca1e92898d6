"""Many accounts, on top of the engine: targets, a run per account, the merged report, the sweep."""
