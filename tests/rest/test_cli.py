"""``fhir-server serve`` options and their environment twins (issue 2, "Project and run")."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from fhir_server.cli import main
from fhir_server.config import Settings, is_loopback


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "::", "example.org", "10.0.0.5"])
def test_auth_off_is_refused_on_a_non_loopback_host(host, tmp_path):
    result = CliRunner().invoke(main, ["serve", "--host", host, "--auth", "off",
                                       "--data-dir", str(tmp_path / "data")])
    assert result.exit_code == 2
    assert "--auth off is only allowed on a loopback address" in result.output
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize("name", ["FHIR_HL7_MAX_BYTES", "FHIR_MAX_BODY_BYTES"])
def test_a_setting_that_is_not_a_number_is_a_usage_error(name, tmp_path):
    result = CliRunner().invoke(main, ["serve", "--data-dir", str(tmp_path / "data")],
                                env={name: "4MB"})
    assert result.exit_code == 2
    assert f"{name} must be a whole number, not '4MB'" in result.output
    assert not (tmp_path / "data").exists()


def test_a_minimum_cell_below_one_is_a_usage_error(tmp_path):
    # the community alerts' small-cell suppression must never fall back silently
    result = CliRunner().invoke(main, ["serve", "--data-dir", str(tmp_path / "data")],
                                env={"FHIR_COMMUNITY_ALERT_MIN_CELL": "0"})
    assert result.exit_code == 2
    assert "FHIR_COMMUNITY_ALERT_MIN_CELL must be at least 1, not 0" in result.output
    assert not (tmp_path / "data").exists()


def test_auth_off_is_refused_through_the_environment_twins(tmp_path):
    result = CliRunner().invoke(main, ["serve"], env={
        "FHIR_HOST": "0.0.0.0", "FHIR_AUTH": "off", "FHIR_DATA_DIR": str(tmp_path / "d")})
    assert result.exit_code == 2
    assert "loopback" in result.output


def test_every_serve_option_has_its_environment_twin():
    serve = main.commands["serve"]
    twins = {option.name: option.envvar for option in serve.params}
    assert twins["host"] == "FHIR_HOST"
    assert twins["port"] == "FHIR_PORT"
    assert twins["data_dir"] == "FHIR_DATA_DIR"
    assert twins["mongodb_uri"] == "MONGODB_URI"
    assert twins["auth"] == "FHIR_AUTH"
    defaults = {option.name: option.default for option in serve.params}
    assert defaults["host"] == "127.0.0.1" and defaults["port"] == 8080
    assert str(defaults["data_dir"]) == "data"


@pytest.mark.parametrize(("host", "loopback"), [
    ("127.0.0.1", True), ("127.1.2.3", True), ("::1", True), ("[::1]", True),
    ("localhost", True), ("0.0.0.0", False), ("::", False), ("10.0.0.1", False),
    ("localhost.example.org", False),
])
def test_loopback_addresses(host, loopback):
    assert is_loopback(host) is loopback


def test_fhir_base_follows_host_and_port():
    assert Settings(host="127.0.0.1", port=9000).fhir_base == "http://127.0.0.1:9000/fhir"
    assert Settings(host="::1", port=9000).fhir_base == "http://[::1]:9000/fhir"
    assert Settings(base_url="https://mch.example.org/fhir/").fhir_base == (
        "https://mch.example.org/fhir")


def _commands(group: click.Group, path: tuple[str, ...] = ()):
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from _commands(command, (*path, name))
        else:
            yield (*path, name), command


def test_every_option_with_an_environment_twin_names_it_in_help():
    """``fhir-server serve --help`` (and every other command's) names each option's
    environment variable, so nobody has to read the source to find FHIR_PORT."""
    checked = 0
    for path, command in _commands(main):
        shown = " ".join(CliRunner().invoke(main, [*path, "--help"]).output.split())
        for option in command.params:
            if option.envvar:
                assert f"env var: {option.envvar}" in shown, (path, option.name)
                checked += 1
    assert checked >= 20


def test_serve_help_points_at_the_environment_only_settings():
    shown = " ".join(CliRunner().invoke(main, ["serve", "--help"]).output.split())
    assert "env var: FHIR_PORT; default: 8080" in shown
    assert "Configuration table in README.md" in shown


def test_the_readme_lists_every_command_with_an_example():
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    section = readme.split("## Command line", 1)[1].split("\n## ", 1)[0]
    rows = [line.split(" | ") for line in section.splitlines() if line.startswith("| `")]
    listed = {row[0].strip("| `"): row[2] for row in rows}
    for path, _ in _commands(main):
        name = " ".join(path)
        assert name in listed, f"README.md 'Command line' does not list {name}"
        assert f"fhir-server {name}" in listed[name], name
