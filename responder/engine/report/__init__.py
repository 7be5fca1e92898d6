"""The ticket: the report built from the journal alone (JSON, Markdown, its words), the evidence a run keeps, the
timeline, the ASFF findings. Nothing of it is needed before the first request: it imports the journal and the
running layer, and only the commands above it import it."""
