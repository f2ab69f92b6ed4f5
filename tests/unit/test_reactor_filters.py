"""The reactor's pure helpers: the byte-bounded text the chain takes, and the run's summary."""
import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.dinfra.chain.plugins.filter.reactor_summary import reactor_summary
from ansible_collections.dinfra.chain.plugins.filter.utf8_truncate import utf8_truncate


def test_text_that_fits_is_kept_whole():
    assert utf8_truncate("no template named centos-5", 256) == "no template named centos-5"
    assert utf8_truncate("x" * 256, 256) == "x" * 256


def test_cut_text_fits_in_bytes_and_ends_with_an_ellipsis():
    cut = utf8_truncate("x" * 300, 256)
    assert len(cut.encode("utf-8")) == 256 and cut.endswith("\u2026") and cut.startswith("x" * 253)


def test_a_cut_never_splits_a_character():
    text = "\u00e9" * 200  # two bytes each: 400 bytes
    cut = utf8_truncate(text, 256)
    assert len(cut.encode("utf-8")) <= 256
    assert cut == "\u00e9" * 126 + "\u2026", "253 bytes of room hold 126 whole characters"
    emoji = utf8_truncate("\U0001F600" * 100, 10)
    assert emoji == "\U0001F600" + "\u2026" and len(emoji.encode()) == 7


def test_control_characters_become_spaces():
    assert utf8_truncate("line one\nline two\tend\x7f", 256) == "line one line two end "


def test_a_limit_below_the_ellipsis_is_an_error():
    with pytest.raises(AnsibleFilterError, match="at least 3 bytes"):
        utf8_truncate("text", 2)


def record(deployment_id, outcome, detail="", state="awarded"):
    return {"id": deployment_id, "state": state, "type": "cloudstack-vm", "outcome": outcome, "detail": detail}


def test_summary_counts_outcomes_and_lists_what_needs_a_human():
    summary = reactor_summary({
        "deployment-3": record(3, "deployed", '{"ip":"192.0.2.1"}'),
        "deployment-1": record(1, "unchanged", state="running"),
        "deployment-2": record(2, "retrying", "descriptor bafk... not fetched: timeout"),
        "deployment-4": record(4, "failed", "no template named windows"),
        "deployment-5": record(5, "torn_down", state="terminating"),
    })
    assert summary["counts"] == {"deployed": 1, "failed": 1, "torn_down": 1, "unchanged": 1, "retrying": 1, "error": 0}
    assert [d["id"] for d in summary["deployments"]] == [1, 2, 3, 4, 5]
    assert [d["id"] for d in summary["attention"]] == [2]
    assert summary["attention_lines"] == ["deployment 2 (cloudstack-vm, awarded): retrying: descriptor bafk... not fetched: timeout"]
    assert summary["lines"] == [
        "deployment 2 (cloudstack-vm, awarded): retrying: descriptor bafk... not fetched: timeout",
        'deployment 3 (cloudstack-vm, awarded): deployed: {"ip":"192.0.2.1"}',
        "deployment 4 (cloudstack-vm, awarded): failed: no template named windows",
        "deployment 5 (cloudstack-vm, terminating): torn down",
        "1 deployed, 1 failed, 1 torn down, 1 unchanged, 1 retrying, 0 error",
    ], "unchanged deployments are counted, not listed"


def test_a_host_without_a_record_is_an_error_that_needs_a_human():
    summary = reactor_summary({"deployment-9": None, "deployment-1": record(1, "unchanged")})
    assert summary["counts"]["error"] == 1
    assert summary["attention"][0]["host"] == "deployment-9" and "no outcome was recorded" in summary["attention_lines"][0]
    assert summary["deployments"][-1]["host"] == "deployment-9", "hosts without an id sort last"


def test_an_empty_run_has_nothing_to_say_but_its_counts():
    assert reactor_summary({}) == {
        "counts": {"deployed": 0, "failed": 0, "torn_down": 0, "unchanged": 0, "retrying": 0, "error": 0},
        "deployments": [], "attention": [], "attention_lines": [],
        "lines": ["0 deployed, 0 failed, 0 torn down, 0 unchanged, 0 retrying, 0 error"],
    }


@pytest.mark.parametrize("bad", [{"outcome": "exploded"}, "deployed", {"id": 1}])
def test_a_record_of_another_shape_is_an_error(bad):
    with pytest.raises(AnsibleFilterError, match="no valid reactor_record"):
        reactor_summary({"deployment-1": bad})


def test_the_input_must_map_hosts_to_records():
    with pytest.raises(AnsibleFilterError, match="expects a mapping"):
        reactor_summary(["deployment-1"])
