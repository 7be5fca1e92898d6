"""Running a playbook against one account: the executor, its scheduler and step graph, the context its actions
get, and what it needs on the way to the first request. Imports the journal, never the report."""
