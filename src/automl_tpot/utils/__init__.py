"""Small utilities every layer may use: the pipeline walker, environment parsing, backend
notification."""
