"""CSV that a spreadsheet cannot turn against its reader: every cell it might read as a formula
(leading whitespace or invisible characters first, full-width signs) written as text, numbers as
numbers; and a streamed file whose stream fails ends with a line that says so, logged."""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pymongo.errors import ExecutionTimeout, OperationFailure
from support import ROOT, SERVER_BACKENDS, UTC, property_settings

from livechat_analytics import render, repository

ROOMS = "rocketchat_room"
URL = f"{ROOT}/departments/amount-of-chats"
WINDOW = {"start": "2024-03-01", "end": "2024-03-31", "format": "csv"}
TS = dt.datetime(2024, 3, 5, 10, tzinfo=UTC)
SIGNS = ("=", "+", "-", "@")
#: What a cell's text is made of: whitespace and invisible characters, signs in their plain,
#: full-width and small forms, and anything else.
PIECES = [" ", "\t", "\n", "\r", "\u3000", "\u00a0", "\u2003", "\u200b", "\ufeff", "\x00", "\x1b"]
PIECES += [*SIGNS, "\uff1d", "\uff0b", "\uff0d", "\uff20", "\ufe66", "\ufe62", "\ufe63", "\ufe6b"]
PIECES += ["a", "1", "'", "SUM(A1)", "\u2212"]
TEXTS = st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=3)), max_size=6).map("".join)


def first_visible(text: str) -> str:
    """The first character of ``text`` in its compatibility form that is neither whitespace nor a
    control or format character, or ''."""
    for character in unicodedata.normalize("NFKC", text):
        if not character.isspace() and unicodedata.category(character) not in ("Cc", "Cf"):
            return character
    return ""


@given(TEXTS)
def test_no_text_cell_reads_as_a_formula_after_whitespace_and_nfkc(text):
    written = render.cell(text)
    plain = unicodedata.normalize("NFKC", written).lstrip()
    assert not plain.startswith(SIGNS)
    assert not written.startswith(("\t", "\r", "\n"))
    # The rule as documented: a ' before the text when it starts with a tab or a line break, or
    # when its first visible character is a sign; the text itself unchanged either way.
    guarded = text.startswith(("\t", "\r", "\n")) or first_visible(text) in SIGNS
    assert written == ("'" + text if guarded else text)


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (-5, -5),
        (-0.5, -0.5),
        (0, 0),
        ("-5", "'-5"),
        (" -5", "' -5"),
        ("\u3000\uff1d1+1", "'\u3000\uff1d1+1"),
        ("\u200b=1", "'\u200b=1"),
        (" hello", " hello"),
        ("\u2212 1", "\u2212 1"),
        ("a-b", "a-b"),
        ("", ""),
        ("   ", "   "),
        (None, ""),
        (True, "true"),
    ],
)
def test_numbers_stay_numbers_and_text_is_guarded(value, written):
    assert render.cell(value) == written


def store_names(database, names: list[str]) -> None:
    database["rocketchat_livechat_department"].insert_many(
        [{"_id": f"d{n}", "name": name} for n, name in enumerate(names)]
    )
    database[ROOMS].insert_many(
        [{"_id": f"r{n}", "t": "l", "ts": TS, "departmentId": f"d{n}"} for n in range(len(names))]
    )


def test_names_with_leading_whitespace_or_full_width_signs_are_written_as_text(make_app, database, headers):
    names = [" =1+1", "\n=1", "\uff1d1+1", "\uff0b1", "\uff0d1", "\uff20a", "\u3000@a", " hello", "1-2"]
    store_names(database, names)
    answer = make_app(DEPARTMENT_NAMES=True).test_client().get(URL, query_string=WINDOW, headers=headers)
    assert answer.get_data(as_text=True) == (
        "_id,name,rooms\r\n"
        "d0,' =1+1,1\r\n"
        'd1,"\'\n=1",1\r\n'
        "d2,'\uff1d1+1,1\r\n"
        "d3,'\uff0b1,1\r\n"
        "d4,'\uff0d1,1\r\n"
        "d5,'\uff20a,1\r\n"
        "d6,'\u3000@a,1\r\n"
        "d7, hello,1\r\n"
        "d8,1-2,1\r\n"
    )


@property_settings(25)
@given(names=st.lists(TEXTS.filter(lambda text: "\x00" not in text), min_size=1, max_size=4))
def test_any_stored_name_comes_back_as_itself_or_guarded(make_app, database, headers, names):
    database["rocketchat_livechat_department"].delete_many({})
    database[ROOMS].delete_many({})
    store_names(database, names)
    answer = make_app(DEPARTMENT_NAMES=True, CACHE_SECONDS=0).test_client().get(
        URL, query_string=WINDOW, headers=headers
    )
    lines = list(render_rows(answer.get_data(as_text=True)))
    assert [line[0] for line in lines] == [f"d{n}" for n in range(len(names))]
    for line, name in zip(lines, names, strict=True):
        assert line[1] in (name, "'" + name)
        assert not unicodedata.normalize("NFKC", line[1]).lstrip().startswith(SIGNS)


def render_rows(text: str):
    """The lines of a CSV body after its header, read as a spreadsheet would split them."""
    reader = csv.reader(io.StringIO(text, newline=""))
    next(reader)
    yield from reader


# A stream that fails mid-way


def failing_after(count: int, error: Exception):
    """A ``Repository.stream`` whose cursor gives its first ``count`` rows, then raises ``error``."""
    real = repository.Repository.stream

    def stream(self, *args, **kwargs):
        cursor = real(self, *args, **kwargs)

        class Cursor:
            def __iter__(self):
                for number, row in enumerate(cursor):
                    if number == count:
                        raise error
                    yield row

            def close(self):
                cursor.close()

        return Cursor()

    return stream


FIRST_TWO = "_id,rooms\r\nd0,1\r\nd1,1\r\n"


@pytest.mark.parametrize(
    ("error", "line", "logged"),
    [
        (ExecutionTimeout("time limit", 50), "The query took too long.", "over its time limit"),
        (OperationFailure("internals", 2), "The database could not answer.", "database error: Operation"),
        (ValueError("cannot convert"), "Internal server error.", "a CSV stream failed after its first line"),
    ],
)
def test_a_stream_that_fails_after_its_first_rows_ends_with_a_line_saying_so(
    client, database, headers, monkeypatch, caplog, error, line, logged
):
    store_names(database, ["a", "b", "c", "d", "e"])
    monkeypatch.setattr(repository, "STREAM_BATCH_SIZE", 2)
    monkeypatch.setattr(repository.Repository, "stream", failing_after(2, error))
    with caplog.at_level(logging.WARNING, "livechat_analytics"):
        answer = client.get(URL, query_string=WINDOW, headers=headers)
        text = answer.get_data(as_text=True)
    assert (answer.status_code, text) == (200, FIRST_TWO + f"#incomplete: {line}\r\n")
    assert logged in caplog.text
    if isinstance(error, ValueError):
        assert "ValueError: cannot convert" in caplog.text


@pytest.mark.parametrize("backend", SERVER_BACKENDS)
@pytest.mark.parametrize(
    ("code", "line"), [(50, "The query took too long."), (2, "The database could not answer.")]
)
def test_a_server_that_fails_the_second_batch_ends_the_file_with_a_line_saying_so(
    client, database, headers, monkeypatch, code, line
):
    store_names(database, ["a", "b", "c", "d", "e"])
    monkeypatch.setattr(repository, "STREAM_BATCH_SIZE", 2)
    database.client.admin.command(
        "configureFailPoint",
        "failCommand",
        mode={"times": 1},
        data={"failCommands": ["getMore"], "errorCode": code, "errorMessage": "internals"},
    )
    try:
        answer = client.get(URL, query_string=WINDOW, headers=headers)
        text = answer.get_data(as_text=True)
    finally:
        database.client.admin.command("configureFailPoint", "failCommand", mode="off")
    assert (answer.status_code, text) == (200, FIRST_TWO + f"#incomplete: {line}\r\n")


def test_a_stream_that_ends_well_has_no_such_line(client, database, headers, monkeypatch):
    store_names(database, ["a", "b", "c", "d", "e"])
    monkeypatch.setattr(repository, "STREAM_BATCH_SIZE", 2)
    answer = client.get(URL, query_string=WINDOW, headers=headers)
    assert answer.get_data(as_text=True) == FIRST_TWO + "d2,1\r\nd3,1\r\nd4,1\r\n"
