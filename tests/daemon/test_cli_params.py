from __future__ import annotations

import pytest

from mlops_daemon.cli.params import parse_env, parse_memory_mb, parse_param
from mlops_daemon.errors import InvalidInput


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("lr=0.1", ("lr", 0.1)),
        ("epochs=10", ("epochs", 10)),
        ("flag=true", ("flag", True)),
        ("x=null", ("x", None)),
        ("name=resnet", ("name", "resnet")),
        ('name="42"', ("name", "42")),
        ("expr=a=b", ("expr", "a=b")),
        ("empty=", ("empty", "")),
        ("list=[1,2]", ("list", "[1,2]")),
    ],
)
def test_params_are_typed(text: str, expected: tuple[str, object]) -> None:
    assert parse_param(text) == expected


@pytest.mark.parametrize("text", ["lr", "=3", "  =x"])
def test_bad_params_say_the_syntax(text: str) -> None:
    with pytest.raises(InvalidInput, match="KEY=VALUE"):
        parse_param(text)


def test_env() -> None:
    assert parse_env("SEED=1") == ("SEED", "1")
    with pytest.raises(InvalidInput, match="NAME=VALUE"):
        parse_env("1BAD=x")


@pytest.mark.parametrize(
    ("text", "mb"), [("512", 512), ("512M", 512), ("2G", 2048), ("1.5g", 1536), ("2GiB", 2048)]
)
def test_memory_sizes(text: str, mb: int) -> None:
    assert parse_memory_mb(text) == mb


def test_bad_memory() -> None:
    with pytest.raises(InvalidInput, match="512M"):
        parse_memory_mb("lots")
