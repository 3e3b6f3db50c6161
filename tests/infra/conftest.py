"""Shared synths for the infra specs: each variant is synthesized once per session.

Synth (with cdk-nag) takes seconds, so every module reads the same two cloud assemblies:
one where the stack creates the CUR 2.0 export, one that points at an existing export
and also grants a stand-in CUR reader through ``grant_query``.
"""

from __future__ import annotations

import pytest

from tests.infra.synth_support import (
    CREATED_EXPORT_CONFIG,
    EXISTING_EXPORT_CONFIG,
    Synth,
    add_cur_reader,
    synthesize,
)


@pytest.fixture(scope="session")
def created(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    """The stack creating its own CUR 2.0 export and bucket."""
    return synthesize(CREATED_EXPORT_CONFIG, tmp_path_factory.mktemp("created"))


@pytest.fixture(scope="session")
def existing(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    """The stack reading an existing export, plus a role granted CUR query access."""
    return synthesize(EXISTING_EXPORT_CONFIG, tmp_path_factory.mktemp("existing"), add_cur_reader)


@pytest.fixture(params=["created", "existing"])
def any_synth(request: pytest.FixtureRequest) -> Synth:
    """Each variant in turn, for properties that must hold in both."""
    synth: Synth = request.getfixturevalue(request.param)
    return synth
