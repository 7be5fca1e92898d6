"""The journal: what a run recorded (the hash-chained audit log, its events, the state read back from it), where
runs live, the locks a run holds and the plans it saves. The lowest of the engine's layers: it imports none of
them."""
