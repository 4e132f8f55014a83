"""Collection rules for the whole tree (pytest also collects the code's doctests)."""
# Importing a __main__ module runs the command.
collect_ignore_glob = ["*/__main__.py"]
