"""The listener keeps serving through malformed, oversized, dropped and hostile input, and
the CDC negative/edge-case messages get the right ACK codes and ERR locations."""

from __future__ import annotations

import asyncio

import pytest

from importers.hl7v2 import Ingestor, MllpServer
from tests.conftest import database_of
from tests.hl7.conftest import END, START, ack_fields, exchange, message, read_ack, stored

EDGE = "cdc-trusted-intermediary/negative-and-edge/"
ADT = "ms-fhir-converter/ADT-A04-02.hl7"

CASES = [
    ("003_AL_ORM_O01_NBS_Fully_Populated_0_initial_message.hl7", "AA", None),
    ("004_AL_ORM_O01_NBS_Multiple_Races_Multiple_Births_0_initial_message.hl7", "AA", None),
    ("005_AL_ORM_O01_NBS_Incorrect_Units_0_initial_message.hl7", "AA", None),
    ("006_AL_ORM_O01_NBS_Incorrect_Data_Types_0_initial_message.hl7", "AE", ("OBX^2^5", "102")),
    ("007_AL_ORM_O01_NBS_Missing_Required_Fields_0_initial_message.hl7", "AA", None),
    ("008_AL_ORM_O01_NBS_Incorrect_Code_System_0_initial_message.hl7", "AA", None),
    ("009_AL_ORM_O01_NBS_Missing_Non_Required_Fields_0_initial_message.hl7", "AA", None),
    ("010_AL_ORM_O01_NBS_Multiple_Parent_Contant_Phone_Numbers_0_initial_message.hl7", "AA",
     None),
    ("011_AL_ORM_O01_malformed_DTM_datatype_0_initial_message.hl7", "AE", ("OBX^1^5", "102")),
    ("012_AL_ORM_O01_malformed_XAD_datatype_0_initial_message.hl7", "AA", None),
    ("013_AL_ORM_O01_invalid_text_as_txt_datatype_0_initial_message.hl7", "AA", None),
    ("empty.hl7", "AR", ("", "100")),
    ("msh_present_but_missing_all_fields.hl7", "AR", ("MSH^1^2", "102")),
    ("msh_present_but_missing_msh-10.hl7", "AR", ("MSH^1^10", "101")),
    ("msh_present_but_missing_msh-2.hl7", "AR", ("MSH^1^2", "102")),
    ("msh_present_but_missing_msh-6.hl7", "AE", ("PID", "100")),
    ("msh_present_but_missing_msh-9.hl7", "AR", ("MSH^1^9", "101")),
    ("orm_obx-5_is_not_a_numeric_value.hl7", "AE", ("PID", "100")),
]


@pytest.mark.parametrize("name, code, error", CASES, ids=[c[0][:40] for c in CASES])
async def test_negative_and_edge_messages(name, code, error, listener, services):
    ack = await exchange(listener.port, message(EDGE + name))
    fields = ack_fields(ack)
    assert fields["MSA"][1] == code, ack
    assert await listener_still_serves(listener)
    letters = await database_of(services)["hl7_dead_letters"].count_documents({})
    if error is None:
        assert "ERR" not in fields and letters == 0
        return
    location, err_code = error
    assert fields["ERR"][2] == location and fields["ERR"][3].split("^")[0] == err_code, ack
    assert letters == 1


async def listener_still_serves(listener) -> bool:
    ack = await exchange(listener.port, message(ADT))
    return ack_fields(ack)["MSA"][1] == "AA"


async def test_ack_echoes_control_id_even_when_rejected(listener):
    ack = await exchange(listener.port, message(EDGE + "msh_present_but_missing_msh-2.hl7"))
    assert ack_fields(ack)["MSA"][:3] == ["MSA", "AR", "111111"]


async def test_unknown_codes_are_kept_as_text_with_the_code(listener, services):
    ack = await exchange(listener.port, message(
        EDGE + "008_AL_ORM_O01_NBS_Incorrect_Code_System_0_initial_message.hl7"))
    assert ack_fields(ack)["MSA"][1] == "AA"
    order = (await stored(services))["ServiceRequest"][0]
    assert order["code"] == {"coding": [{"code": "55555-0", "display": "Invalid Screening"}],
                             "text": "Invalid Screening"}


async def test_unsupported_message_types_are_rejected(listener, services):
    for name, code in (("ms-fhir-converter/SIU-S12-01.hl7", "200"),
                       ("ms-fhir-converter/ADT-A47-01.hl7", "201"),
                       ("hl7-v2-to-fhir-ig/MDM_T02.hl7", "200")):
        fields = ack_fields(await exchange(listener.port, message(name)))
        assert fields["MSA"][1] == "AR" and fields["ERR"][3].startswith(code)
    assert await database_of(services)["hl7_dead_letters"].count_documents({}) == 3


async def test_garbage_between_frames_and_two_frames_in_one_write(listener):
    reader, writer = await asyncio.open_connection("127.0.0.1", listener.port)
    one = message(ADT)
    two = message(ADT).replace(b"|MSG00001|", b"|MSG00002|")
    writer.write(b"noise\r\n" + START + one + END + b"\x00\xff" + START + two + END)
    await writer.drain()
    acks = [await read_ack(reader), await read_ack(reader)]
    assert [ack_fields(a)["MSA"][1:3] for a in acks] == [["AA", "MSG00001"], ["AA", "MSG00002"]]
    writer.close()
    await writer.wait_closed()


async def test_a_message_in_tiny_pieces(listener):
    reader, writer = await asyncio.open_connection("127.0.0.1", listener.port)
    framed = START + message(ADT) + END
    for start in range(0, len(framed), 7):
        writer.write(framed[start:start + 7])
        await writer.drain()
    assert ack_fields(await read_ack(reader))["MSA"][1] == "AA"
    writer.close()
    await writer.wait_closed()


async def test_dropped_connection_mid_message(listener, services):
    for _ in range(3):
        _, writer = await asyncio.open_connection("127.0.0.1", listener.port)
        writer.write(START + message(ADT)[:300])
        await writer.drain()
        writer.close()
        await writer.wait_closed()
    assert await listener_still_serves(listener)
    assert await database_of(services)["hl7_messages"].count_documents({}) == 1


async def test_restarted_frame_drops_the_partial_one(listener):
    reader, writer = await asyncio.open_connection("127.0.0.1", listener.port)
    writer.write(START + b"MSH|^~\\&|half a mess" + START + message(ADT) + END)
    await writer.drain()
    assert ack_fields(await read_ack(reader))["MSA"][1:3] == ["AA", "MSG00001"]
    writer.close()
    await writer.wait_closed()


async def test_ten_megabyte_message_is_rejected_and_the_connection_keeps_serving(
        ingestor: Ingestor, services):
    small = Ingestor(ingestor.store, ingestor.validator, max_bytes=1 << 20)
    server = await MllpServer(small, "127.0.0.1", 0).start()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        big = message(ADT).replace(b"|MSG00001|", b"|BIG-1|") + b"NTE|1||" + b"x" * (10 << 20)
        writer.write(START + big + END + START + message(ADT) + END)
        await writer.drain()
        rejected = ack_fields(await read_ack(reader))
        assert rejected["MSA"][1:3] == ["AR", "BIG-1"]
        assert "larger than" in rejected["ERR"][8]
        assert ack_fields(await read_ack(reader))["MSA"][1] == "AA"
        writer.close()
        await writer.wait_closed()
        letter = await database_of(services)["hl7_dead_letters"].find_one({})
        assert letter["truncated"] is True and letter["controlId"] == "BIG-1"
    finally:
        await server.close()


async def test_bad_bytes_and_bad_encoding_characters(listener):
    latin = message(ADT).replace(b"EVERYMAN", b"\xc9VERYMAN\xff")
    assert ack_fields(await exchange(listener.port, latin))["MSA"][1] == "AA"
    for hostile in (b"\x00\x01\x02", b"MSH" + bytes(range(256)), b"MSH|\xff\xfe\xfd\xfc|x|",
                    b"MSH|^~\\&" + b"|" * 5000):
        fields = ack_fields(await exchange(listener.port, hostile))
        assert fields["MSA"][1] in ("AR", "AE")
    assert await listener_still_serves(listener)


async def test_many_concurrent_connections(listener, services):
    texts = [message(ADT).replace(b"|MSG00001|", f"|C{n}|".encode()) for n in range(20)]
    acks = await asyncio.gather(*(exchange(listener.port, t) for t in texts))
    assert sorted(ack_fields(a)["MSA"][2] for a in acks) == sorted(f"C{n}" for n in range(20))
    assert {ack_fields(a)["MSA"][1] for a in acks} == {"AA"}
    assert await database_of(services)["hl7_messages"].count_documents({}) == 20
