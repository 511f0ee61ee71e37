"""The public web process: Datasette over the public database, and the subscription pages beside it."""
