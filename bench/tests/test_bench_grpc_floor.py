"""Functional tests for the gRPC floor benchmark: real server processes, short spans, no speed asserted."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from temporalio.api.workflowservice.v1 import request_response_pb2 as wsv1

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_grpc_floor import KINDS, METHOD, RESPONSE, Started, measure, report, start


@pytest.fixture(scope="module")
def servers() -> Iterator[list[Started]]:
    started = [start(kind) for kind in KINDS]
    yield started
    for server in started:
        server.stop()


async def call(server: Started) -> wsv1.GetSystemInfoResponse:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        stub = channel.unary_unary(
            METHOD,
            request_serializer=wsv1.GetSystemInfoRequest.SerializeToString,
            response_deserializer=wsv1.GetSystemInfoResponse.FromString,
        )
        response: wsv1.GetSystemInfoResponse = await stub(wsv1.GetSystemInfoRequest())
        return response


def test_every_kind_answers_with_the_real_message(servers: list[Started]) -> None:
    for server in servers:
        assert asyncio.run(call(server)) == RESPONSE, server.kind


def test_measure_gives_one_figure_per_kind_in_flight_and_repeat(servers: list[Started]) -> None:
    figures = asyncio.run(measure(servers, [1, 3], seconds=0.3, repeats=2))
    assert sorted(figures) == sorted((kind, n) for kind in KINDS for n in (1, 3))
    assert all(len(runs) == 2 and all(run >= 0 for run in runs) for runs in figures.values())
    table = report(figures)
    assert len(table.splitlines()) == 1 + len(KINDS) * 2
    assert "aio+cadenza" in table
