"""The search: its time budget, the TPOT run and the generation watcher."""
