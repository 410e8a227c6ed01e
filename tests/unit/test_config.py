"""Configuration from the environment and Temporal-style dynamic config."""

from __future__ import annotations

import pytest

from cadenza.config import ConfigError, Limits, apply_dynamic_config, dynamic_config, from_env


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


def test_drainage_durations_are_seconds_or_go_durations() -> None:
    limits, ignored = apply_dynamic_config(
        Limits(),
        [
            "matching.wv.VersionDrainageStatusVisibilityGracePeriod=10",
            'matching.wv.VersionDrainageStatusRefreshInterval="2m"',
        ],
    )
    assert (limits.version_drainage_grace_seconds, limits.version_drainage_refresh_seconds) == (10.0, 120.0)
    assert not ignored


@pytest.mark.parametrize(
    "pair",
    ["no-equals-sign", "limit.blobSize.error=lots", "matching.wv.VersionDrainageStatusRefreshInterval=soon"],
)
def test_malformed_dynamic_config_is_refused(pair: str) -> None:
    with pytest.raises(ConfigError):
        apply_dynamic_config(Limits(), [pair])


def test_the_dynamic_config_variable_holds_several_settings_and_the_flags_come_after_it() -> None:
    env = {"CADENZA_DYNAMIC_CONFIG_VALUE": "limit.blobSize.warn=10\n limit.blobSize.error=20  other.key=1"}
    limits, ignored = dynamic_config(Limits(), ["limit.blobSize.error=30", "other.key=2"], env)
    assert (limits.blob_size_warn, limits.blob_size_error) == (10, 30)
    assert ignored == ["other.key"]


def test_a_bad_dynamic_config_variable_is_named() -> None:
    with pytest.raises(ConfigError, match=r"^CADENZA_DYNAMIC_CONFIG_VALUE 'oops': expected KEY=VALUE$"):
        dynamic_config(Limits(), [], {"CADENZA_DYNAMIC_CONFIG_VALUE": "oops"})


def test_log_settings_come_from_the_environment_in_any_case() -> None:
    config = from_env({"CADENZA_LOG_LEVEL": "INFO", "CADENZA_LOG_FORMAT": " Json "})
    assert (config.log_level, config.log_format) == ("info", "json")
    assert from_env({"CADENZA_LOG_LEVEL": "info"}, log_level="debug").log_level == "debug"


@pytest.mark.parametrize("variable", ["CADENZA_LOG_LEVEL", "CADENZA_LOG_FORMAT"])
def test_a_log_setting_outside_its_words_is_refused_by_name(variable: str) -> None:
    with pytest.raises(ConfigError, match=f"^{variable}: 'loud' is not one of "):
        from_env({variable: "loud"})


@pytest.mark.parametrize(
    ("raw", "expected"), [("false", False), ("0", False), ("Off", False), ("true", True)]
)
def test_the_ui_is_turned_off_and_made_read_only_from_the_environment(raw: str, expected: bool) -> None:
    config = from_env({"CADENZA_UI": raw, "CADENZA_UI_READ_ONLY": raw})
    assert (config.ui, config.ui_read_only) == (expected, expected)
    assert from_env({"CADENZA_UI": raw}, ui=not expected).ui is not expected  # a flag wins


def test_a_switch_that_is_no_yes_or_no_names_its_variable() -> None:
    with pytest.raises(ConfigError, match="CADENZA_UI_READ_ONLY: 'maybe'"):
        from_env({"CADENZA_UI_READ_ONLY": "maybe"})


def test_workflow_pause_is_switched_on_by_temporal_s_key_and_refuses_other_values() -> None:
    assert not Limits().workflow_pause_enabled
    limits, ignored = apply_dynamic_config(Limits(), ["frontend.WorkflowPauseEnabled=true"])
    assert limits.workflow_pause_enabled and not ignored
    limits, _ = apply_dynamic_config(limits, ['frontend.WorkflowPauseEnabled="False"'])
    assert not limits.workflow_pause_enabled
    with pytest.raises(ConfigError, match="'yes' is neither true nor false"):
        apply_dynamic_config(Limits(), ["frontend.WorkflowPauseEnabled=yes"])


def test_the_version_set_data_api_and_its_limits_are_set_by_temporal_s_keys() -> None:
    assert not Limits().worker_versioning_data_apis
    pairs = [
        "frontend.workerVersioningDataAPIs=true",
        "limit.versionCompatibleSetLimitPerQueue=3",
        "limit.versionBuildIdLimitPerQueue=7",
    ]
    limits, ignored = apply_dynamic_config(Limits(), pairs)
    assert (
        limits.worker_versioning_data_apis,
        limits.version_sets_per_queue,
        limits.build_ids_per_queue,
    ) == (
        True,
        3,
        7,
    )
    assert not ignored
