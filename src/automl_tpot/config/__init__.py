"""Configuration: one frozen, validated :class:`TrainerConfig` per run, from keyword arguments,
a job payload and the ``TPOT__*`` environment variables."""

from .settings import ENV_VARIABLES, PAYLOAD_JOB_KEYS, TrainerConfig, default_n_jobs

__all__ = ["ENV_VARIABLES", "PAYLOAD_JOB_KEYS", "TrainerConfig", "default_n_jobs"]
