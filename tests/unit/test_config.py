"""Configuration from the environment and Temporal-style dynamic config."""

from __future__ import annotations

import pytest

from cadenza.config import ConfigError, Limits, apply_dynamic_config, from_env


def test_environment_then_overrides() -> None:
    config = from_env({"CADENZA_PORT": "9999", "CADENZA_DB": "x.db"}, db="y.db")
    assert (config.port, config.db) == (9999, "y.db")


def test_bad_environment_value_names_the_key() -> None:
    with pytest.raises(ConfigError, match="CADENZA_PORT"):
        from_env({"CADENZA_PORT": "seven"})


def test_dynamic_config_sets_known_limits_and_reports_the_rest() -> None:
    limits, ignored = apply_dynamic_config(
        Limits(),
        [
            "limit.historyCount.suggestContinueAsNew=50",
            "frontend.enableUpdateWorkflowExecution=true",
        ],
    )
    assert limits.suggest_continue_as_new_events == 50
    assert ignored == ["frontend.enableUpdateWorkflowExecution"]


@pytest.mark.parametrize("pair", ["no-equals-sign", "limit.blobSize.error=lots"])
def test_malformed_dynamic_config_is_refused(pair: str) -> None:
    with pytest.raises(ConfigError):
        apply_dynamic_config(Limits(), [pair])
