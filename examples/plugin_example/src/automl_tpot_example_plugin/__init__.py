"""An example automl-tpot search-space plugin (see ``spaces``)."""
