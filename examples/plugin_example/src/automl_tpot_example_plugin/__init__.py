"""An example automl-tpot plugin: a search space (``spaces``) and a metrics backend
(``metrics``)."""
