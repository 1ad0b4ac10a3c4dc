"""One run: the Trainer that conducts it, the run writer, the AutoML fallback."""
