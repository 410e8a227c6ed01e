"""Rate-limit settings read as Temporal writes them: KEY=VALUE and the dynamic-config YAML file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cadenza.config import ConfigError, Limits, ServerConfig, apply_dynamic_config, dynamic_quotas
from cadenza.quotas.dynamic_file import DynamicConfigFile
from cadenza.quotas.settings import KEYS, QuotaSettings, SettingsError, from_pairs, from_yaml


def test_each_key_has_temporals_default_until_set() -> None:
    settings = QuotaSettings()
    assert settings.value("frontend.namespaceRPS", "any") == 2400
    assert settings.value("frontend.namespaceBurstRatio") == 2
    assert settings.value("frontend.namespaceCount") == 1200
    assert settings.value("frontend.rps") == 2400
    assert settings.value("frontend.namespaceRPS.visibility") == 100  # temporal server start-dev's


def test_a_value_applies_everywhere_or_to_the_namespaces_and_principals_it_names() -> None:
    settings = from_pairs(
        [
            'frontend.namespaceRPS=[{"value":5,"constraints":{"namespace":"batch"}},{"value":50}]',
            'cadenza.principalRPS=[{"value":1,"constraints":{"principal":"ci"}},'
            '{"value":2,"constraints":{"namespace":"batch","principal":"ci"}}]',
            "frontend.namespaceCount=7",
            "unrelated.key=whatever",
        ],
        "--dynamic-config-value",
    )
    assert settings.value("frontend.namespaceRPS", "batch") == 5
    assert settings.value("frontend.namespaceRPS", "other") == 50
    assert settings.value("cadenza.principalRPS", "batch", "ci") == 2  # the most specific entry
    assert settings.value("cadenza.principalRPS", "other", "ci") == 1
    assert settings.value("cadenza.principalRPS", "batch", "someone") == 0
    assert settings.value("frontend.namespaceCount") == 7


def test_temporals_yaml_file_is_read_and_its_other_keys_named() -> None:
    settings, others = from_yaml(
        """
frontend.namespaceRPS:
  - value: 10
    constraints:
      namespace: batch
  - value: 300
limit.maxIDLength:
  - value: 255
""",
        "file",
    )
    assert settings.value("frontend.namespaceRPS", "batch") == 10
    assert settings.value("frontend.namespaceRPS", "default") == 300
    assert others == ["limit.maxIDLength"]
    assert from_yaml("", "file") == (QuotaSettings(), [])


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("frontend.namespaceRPS: 5", "frontend.namespaceRPS: expected a list of {value, constraints}"),
        ("frontend.namespaceRPS: [{value: -1}]", "frontend.namespaceRPS: -1 is negative"),
        ("frontend.namespaceCount: [{value: 2.5}]", "frontend.namespaceCount: 2.5 is not a whole number"),
        ("frontend.namespaceRPS: [{value: yes}]", "frontend.namespaceRPS: True is not a number"),
        ("frontend.namespaceRPS: [{value: .inf}]", "frontend.namespaceRPS: inf is not a number"),
        ("frontend.namespaceRPS: [{constraints: {}}]", "each entry needs a value"),
        (
            "frontend.namespaceRPS: [{value: 1, constraints: {taskQueueName: q}}]",
            "constraint 'taskQueueName' is not one of namespace, principal",
        ),
        (
            "frontend.namespaceRPS: [{value: 1, constraints: {namespace: 3}}]",
            "constraint namespace must be a string",
        ),
        ("- just a list", "expected a mapping of keys to lists of values"),
        ("key: [unclosed", "not YAML"),
    ],
)
def test_a_bad_file_is_refused_naming_the_key(text: str, error: str) -> None:
    with pytest.raises(SettingsError, match=re.escape(error)):
        from_yaml(text, "file")


def test_the_flags_win_over_the_variable_and_bad_values_are_config_errors() -> None:
    env = {"CADENZA_DYNAMIC_CONFIG_VALUE": "frontend.namespaceRPS=1 frontend.namespaceCount=3"}
    settings = dynamic_quotas(["frontend.namespaceRPS=2"], env)
    assert settings.value("frontend.namespaceRPS") == 2
    assert settings.value("frontend.namespaceCount") == 3
    with pytest.raises(
        ConfigError, match=re.escape("CADENZA_DYNAMIC_CONFIG_VALUE frontend.namespaceRPS: 'x'")
    ):
        dynamic_quotas([], {"CADENZA_DYNAMIC_CONFIG_VALUE": "frontend.namespaceRPS=x"})


def test_the_rate_limit_keys_are_honoured_not_reported_as_ignored() -> None:
    _limits, ignored = apply_dynamic_config(Limits(), [f"{key}=1" for key in KEYS])
    assert ignored == []


def test_the_file_watcher_applies_each_good_version_once_and_keeps_the_last_good_one(tmp_path: Path) -> None:
    path = tmp_path / "dynamic.yaml"
    path.write_text("frontend.namespaceRPS: [{value: 7}]\n")
    applied: list[float] = []
    watched = DynamicConfigFile(
        str(path), 10.0, lambda settings: applied.append(settings.value("frontend.namespaceRPS"))
    )
    watched.load()
    watched.check()  # unchanged: nothing applied again
    path.write_text("frontend.namespaceRPS: [{value: 8}]\n")
    watched.check()
    path.write_text("frontend.namespaceRPS: [{value: nine}]\n")
    watched.check()  # bad: the last good settings stay
    path.unlink()
    watched.check()  # gone: likewise
    path.write_text("frontend.namespaceRPS: [{value: 8}]\n")
    watched.check()  # back: applied again, even as it was
    assert applied == [7, 8, 8]


def test_a_file_that_cannot_be_read_is_refused_at_start(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="cannot read it"):
        DynamicConfigFile(str(tmp_path / "missing.yaml"), 10.0, lambda _settings: None).load()


def test_the_file_is_polled_at_a_positive_interval() -> None:
    with pytest.raises(ConfigError, match="CADENZA_DYNAMIC_CONFIG_POLL_SECONDS 0"):
        ServerConfig(dynamic_config_poll_seconds=0)
