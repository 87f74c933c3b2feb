"""The appraisal desk and the progress board as a council member uses them: every input has a
label, a decimal comma is read, one mistake does not cost the rest of the page, "accept this
field" keeps what was typed and leaves not-applicable requests to the appraiser, the previous and
next units, the reminder to revise a public note, and refusals that write nothing."""

from decimal import Decimal as D
from html.parser import HTMLParser

import pytest

from scoring import workflow
from scoring.models import AppraiserAssignment, Assessment, Round, Score, Stage, Unit
from tests.cast import YEAR, leaf, set_stage
from tests.helpers import database_state, form_fields

pytestmark = pytest.mark.django_db


@pytest.fixture
def self_assessed(cast, assessment_a):
    """Unit A has scored itself: 1.1.1 = 4, 1.1.2 = 6, bonus 3.1 = 2; the round is in round 1."""
    save_self(cast, assessment_a)
    open_round_1(cast)
    return assessment_a


def save_self(cast, assessment, **requests):
    leaves = {
        "1.1.1": workflow.SelfInput(leaf("1.1.1").pk, D("4"), "Kế hoạch 12/KH"),
        "1.1.2": workflow.SelfInput(leaf("1.1.2").pk, D("6"), "Báo cáo năm"),
        "3.1": workflow.SelfInput(leaf("3.1").pk, D("2"), "Sáng kiến"),
    }
    leaves.update(requests)
    workflow.assessment_save_self(
        assessment_id=assessment.pk, user=cast["staff_a"], leaves=list(leaves.values())
    )


def open_round_1(cast):
    workflow.round_advance(
        round_id=Round.objects.get(year=YEAR).pk,
        user=cast["secretariat"],
        to_stage=Stage.APPRAISAL_1,
    )


def url(assessment):
    return f"/admin/scoring/assessment/{assessment.pk}/appraise/"


def score(assessment, code) -> Score:
    return Score.objects.get(assessment=assessment, criterion=leaf(code))


def appraised(assessment) -> dict:
    return {
        s.criterion.code: s.appraisal_1
        for s in Score.objects.filter(assessment=assessment).select_related("criterion")
    }


def page_data(client, assessment, **typed) -> dict:
    """What the browser sends from the page as it stands, with ``typed`` (input name prefix and
    leaf code, e.g. ``value_1_1_1="3"``) typed over it."""
    body = client.get(url(assessment)).content.decode()
    data = dict(form_fields(body, "appraisal"))
    for key, value in typed.items():
        name, code = key.split("_", 1)
        field = f"{name}_{score(assessment, code.replace('_', '.')).pk}"
        if value is None:
            data.pop(field, None)  # an unticked box
        else:
            data[field] = value
    return data


@pytest.fixture
def two_fields(cast):
    """Appraiser 1 appraises field 3 as well as field 1."""
    AppraiserAssignment.objects.create(user=cast["appraiser_1"], field=leaf("3"))
    return cast["appraiser_1"]


class Inputs(HTMLParser):
    """The inputs of the appraisal form and the labels of the page."""

    def __init__(self):
        super().__init__()
        self.inputs, self.labels, self._label, self._in_form = [], {}, None, False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._in_form = attrs.get("id") == "appraisal"
        shown = attrs.get("type") not in ("hidden", "submit", "button")
        if tag in ("input", "textarea", "select") and self._in_form and shown:
            self.inputs.append(attrs)
        if tag == "label":
            self._label = [attrs.get("for"), attrs.get("class") or "", ""]

    def handle_data(self, data):
        if self._label is not None:
            self._label[2] += data

    def handle_endtag(self, tag):
        if tag == "label" and self._label is not None:
            target, css, text = self._label
            self.labels[target] = (css, text.strip())
            self._label = None
        if tag == "form":
            self._in_form = False


def test_every_input_has_a_visible_label_and_decimals_are_typed_as_text(
    login, cast, self_assessed, two_fields
):
    body = login(cast["appraiser_1"]).get(url(self_assessed)).content.decode()
    parsed = Inputs()
    parsed.feed(body)
    # 1.1.1, 1.1.2 and 3.1, 3.2: score, reason, flag, n/a, public note each.
    assert len(parsed.inputs) == 4 * 5
    for attrs in parsed.inputs:
        css, text = parsed.labels.get(attrs.get("id"), ("", ""))
        assert text, f"no label for {attrs.get('name')}"
        assert "cchc-sr" not in css  # the label is visible, not for screen readers only
    points = [a for a in parsed.inputs if a["name"].startswith("value_")]
    assert len(points) == 4
    assert all(a.get("type") == "text" and a.get("inputmode") == "decimal" for a in points)


def test_a_decimal_comma_is_read(login, cast, self_assessed):
    client = login(cast["appraiser_1"])
    data = page_data(client, self_assessed, value_1_1_1="3,5", reason_1_1_1="Chậm 5 ngày")
    assert client.post(url(self_assessed), data).status_code == 302
    assert appraised(self_assessed)["1.1.1"] == D("3.50")
    # Shown back the Vietnamese way.
    body = login(cast["appraiser_1"], language="vi").get(url(self_assessed)).content.decode()
    assert f'name="value_{score(self_assessed, "1.1.1").pk}" value="3,50"' in body


def test_one_invalid_row_does_not_stop_the_others_and_what_was_typed_is_shown_again(
    login, cast, self_assessed
):
    client = login(cast["appraiser_1"])
    data = page_data(
        client,
        self_assessed,
        value_1_1_1="9",  # above the maximum of 4
        reason_1_1_1="Gõ nhầm",
        note_1_1_1="Ghi chú đang viết",
        value_1_1_2="5,5",
        reason_1_1_2="Chậm một nhiệm vụ",
    )
    response = client.post(url(self_assessed), data)
    assert response.status_code == 200
    assert appraised(self_assessed) == {
        "1.1.1": None,
        "1.1.2": D("5.50"),
        "2.1": None,
        "3.1": None,
        "3.2": None,
    }
    body = response.content.decode()
    first = score(self_assessed, "1.1.1")
    # The row in error: what was typed, its error beside it, a mark in words, a link above.
    assert f'name="value_{first.pk}" value="9"' in body
    assert "Gõ nhầm" in body and "Ghi chú đang viết" in body
    assert 'id="leaf-1.1.1" class="leaf has-error"' in body
    assert f'<div class="row-error" id="error-{first.pk}">' in body
    assert "Not saved: see the error" in body
    assert '<a href="#leaf-1.1.1">1.1.1: The score must be between 0 and 4.00.</a>' in body
    assert 'id="leaf-1.1.2" class="leaf"' in body  # saved, no error
    # Corrected and sent again from the page as shown: no conflict with its own save.
    again = dict(form_fields(body, "appraisal"))
    again[f"value_{first.pk}"] = "4"
    assert client.post(url(self_assessed), again).status_code == 302
    assert appraised(self_assessed)["1.1.1"] == D("4.00")
    assert appraised(self_assessed)["1.1.2"] == D("5.50")
    assert score(self_assessed, "1.1.1").note == "Ghi chú đang viết"


def test_a_rule_broken_on_one_row_leaves_the_others_saved(login, cast, self_assessed):
    client = login(cast["appraiser_1"])
    data = page_data(client, self_assessed, value_1_1_1="4", value_1_1_2="5")  # no reason
    response = client.post(url(self_assessed), data)
    assert response.status_code == 200
    body = response.content.decode()
    assert '<a href="#leaf-1.1.2">1.1.2: A score below the self score needs a reason.' in body
    assert f'name="value_{score(self_assessed, "1.1.2").pk}" value="5"' in body
    assert appraised(self_assessed)["1.1.1"] == D("4.00")
    assert appraised(self_assessed)["1.1.2"] is None


def test_each_save_button_saves_the_whole_page_and_comes_back_to_its_place(
    login, cast, self_assessed, two_fields
):
    client = login(cast["appraiser_1"])
    data = page_data(client, self_assessed, value_1_1_1="4", value_3_1="2")
    response = client.post(url(self_assessed), {**data, "save": "leaf-1.1.1"})
    assert response["Location"].endswith("#leaf-1.1.1")
    assert appraised(self_assessed)["3.1"] == D("2.00")  # another field's edit saved too
    data = page_data(client, self_assessed, value_1_1_2="6")
    response = client.post(url(self_assessed), {**data, "save": "field-1"})
    assert response["Location"].endswith("#field-1")
    assert appraised(self_assessed)["1.1.2"] == D("6.00")
    # Anything else in "save" is not put into the address.
    data = page_data(client, self_assessed)
    response = client.post(url(self_assessed), {**data, "save": "javascript:alert(1)"})
    assert response["Location"] == url(self_assessed)


def test_accepting_a_field_keeps_the_edits_of_the_page_and_accepts_only_untouched_leaves(
    login, cast, self_assessed, two_fields
):
    client = login(cast["appraiser_1"])
    data = page_data(
        client,
        self_assessed,
        value_1_1_1="3,5",  # typed in the field being accepted
        reason_1_1_1="Ban hành chậm",
        value_3_1="1",  # typed in another field
        reason_3_1="Sáng kiến chưa được công nhận",
    )
    response = client.post(url(self_assessed), {**data, "accept": leaf("1").pk}, follow=True)
    assert appraised(self_assessed) == {
        "1.1.1": D("3.50"),  # the edit, not the self score 4
        "1.1.2": D("6.00"),  # untouched: accepted
        "2.1": None,
        "3.1": D("1.00"),  # the other field's edit is saved, not lost
        "3.2": None,
    }
    assert "1 self scores accepted as the appraisal." in response.content.decode()


def test_accepting_a_field_does_not_take_a_self_score_over_an_invalid_edit(
    login, cast, self_assessed
):
    client = login(cast["appraiser_1"])
    data = page_data(client, self_assessed, value_1_1_1="bốn")
    response = client.post(url(self_assessed), {**data, "accept": leaf("1").pk})
    assert response.status_code == 200
    assert appraised(self_assessed)["1.1.1"] is None  # what was typed waits to be corrected
    assert appraised(self_assessed)["1.1.2"] == D("6.00")
    body = response.content.decode()
    assert f'name="value_{score(self_assessed, "1.1.1").pk}" value="bốn"' in body
    # The page shown again carries the accepted score: saving it does not undo the acceptance.
    again = dict(form_fields(body, "appraisal"))
    again[f"value_{score(self_assessed, '1.1.1').pk}"] = "4"
    assert client.post(url(self_assessed), again).status_code == 302
    assert appraised(self_assessed)["1.1.1"] == D("4.00")
    assert appraised(self_assessed)["1.1.2"] == D("6.00")


def test_accepting_a_field_leaves_not_applicable_requests_to_the_appraiser(
    login, cast, assessment_a
):
    save_self(
        cast,
        assessment_a,
        **{
            "1.1.2": workflow.SelfInput(
                leaf("1.1.2").pk, None, na_requested=True, na_reason="Không có nhiệm vụ"
            )
        },
    )
    open_round_1(cast)
    client = login(cast["appraiser_1"])
    data = page_data(client, assessment_a)
    response = client.post(url(assessment_a), {**data, "accept": leaf("1").pk}, follow=True)
    finals = appraised(assessment_a)
    assert finals["1.1.1"] == D("4.00") and finals["1.1.2"] is None
    assert not score(assessment_a, "1.1.2").not_applicable  # the appraiser decides
    body = response.content.decode()
    assert "1 accepted, 1 left for you: not-applicable requests (" in body
    assert '<a href="#leaf-1.1.2">1.1.2</a>' in body
    assert response.redirect_chain[-1][0].endswith("#field-1")


def test_previous_and_next_units_of_the_group(login, cast, self_assessed):
    units = {a.unit.code: a for a in Assessment.objects.select_related("unit")}
    client = login(cast["secretariat"])
    body = client.get(url(units["so-b"])).content.decode()
    assert f'rel="prev" id="previous-unit" href="{url(units["so-a"])}"' in body
    assert f'rel="next" id="next-unit" href="{url(units["so-c"])}"' in body
    body = client.get(url(units["so-a"])).content.decode()
    assert 'rel="prev"' not in body and "Next unit: Sở Bình" in body
    body = client.get(url(units["so-c"])).content.decode()
    assert 'rel="next"' not in body and "Previous unit: Sở Bình" in body
    # An appraiser whose assignment covers A and C only never sees B's page offered.
    assignment = AppraiserAssignment.objects.get(user=cast["appraiser_1"])
    assignment.units.set(Unit.objects.filter(code__in=["so-a", "so-c"]))
    body = login(cast["appraiser_1"]).get(url(units["so-a"])).content.decode()
    assert f'rel="next" id="next-unit" href="{url(units["so-c"])}"' in body
    assert "Sở Bình" not in body


def test_a_changed_score_reminds_to_revise_its_public_note(login, cast, self_assessed):
    client = login(cast["appraiser_1"])
    data = page_data(
        client, self_assessed, value_1_1_2="5", reason_1_1_2="Chậm", note_1_1_2="Trừ 1 điểm"
    )
    response = client.post(url(self_assessed), data, follow=True)
    assert "may no longer match" not in response.content.decode()  # written together
    data = page_data(client, self_assessed, value_1_1_2="4")
    body = client.post(url(self_assessed), data, follow=True).content.decode()
    assert (
        'The public note of <a href="#leaf-1.1.2">1.1.2</a> may no longer match the new score'
        in body
    )
    data = page_data(client, self_assessed, value_1_1_2="3", note_1_1_2="Trừ 3 điểm")
    assert (
        "may no longer match"
        not in client.post(url(self_assessed), data, follow=True).content.decode()
    )
    data = page_data(client, self_assessed, reason_1_1_2="Chậm hai nhiệm vụ")
    assert (
        "may no longer match"
        not in client.post(url(self_assessed), data, follow=True).content.decode()
    )  # the score did not move


@pytest.mark.parametrize("who", ["staff_a", "staff_b", "head_a", "appraiser_3", None])
def test_people_without_the_field_can_neither_see_its_inputs_nor_write_it(
    login, client, cast, self_assessed, who
):
    first = score(self_assessed, "1.1.1")
    data = {
        f"value_{first.pk}": "1",
        f"reason_{first.pk}": "x",
        f"version_{first.pk}": first.version,
    }
    if who is not None:
        client = login(cast[who])
    page = client.get(url(self_assessed))
    if who == "appraiser_3":
        assert page.status_code == 200
        assert f'name="value_{first.pk}"' not in page.content.decode()
        assert f'name="accept" value="{leaf("1").pk}"' not in page.content.decode()
    else:
        assert page.status_code == 302 and "/admin/login/" in page["Location"]
    before = database_state()
    client.post(url(self_assessed), data)
    client.post(url(self_assessed), {**data, "accept": leaf("1").pk})
    client.post(url(self_assessed), {**data, "save": "field-1"})
    assert database_state() == before


def test_accepting_a_field_not_assigned_is_refused(login, cast, self_assessed):
    client = login(cast["appraiser_1"])
    data = page_data(client, self_assessed)
    before = database_state()
    response = client.post(url(self_assessed), {**data, "accept": leaf("3").pk}, follow=True)
    assert "This field is not assigned to you." in response.content.decode()
    assert database_state() == before


def test_the_progress_board_gives_totals_percentages_words_and_what_is_missing(
    login, cast, self_assessed
):
    first = score(self_assessed, "1.1.1")
    workflow.score_appraise(
        assessment_id=self_assessed.pk,
        user=cast["appraiser_1"],
        stage=Stage.APPRAISAL_1,
        items=[workflow.AppraisalInput(first.pk, first.version, D("4"))],
    )
    round_obj = Round.objects.get(year=YEAR)
    body = (
        login(cast["secretariat"])
        .get(f"/admin/scoring/round/{round_obj.pk}/progress/")
        .content.decode()
    )
    # Field names, not only codes.
    assert '<abbr title="Công tác chỉ đạo">1</abbr>' in body
    assert "Công tác chỉ đạo</dd>" in body
    # Unit A, field 1: one of two leaves appraised, said in a word and a sign.
    assert (
        '<span class="cchc-sr">in progress:</span> 2/2 · 1/2 <span class="percent">(50 %)' in body
    )
    # Unit A in all: 1 of 3 leaves with a final score, rounded down.
    assert "2/2 · 1/3 <span" in body and "(33 %)" in body
    # What is missing, per unit, linked to the first leaf without a final score.
    sob = Assessment.objects.get(unit__code="so-b")
    assert f'href="{url(self_assessed)}#leaf-1.1.2">2 leaves without a final score</a>' in body
    assert f'href="{url(sob)}#leaf-1.1.1">3 leaves without a final score</a>' in body
    # Totals of a field over the units: 1 of 6 leaves of field 1.
    assert "2/6 · 1/6 <span" in body and "(16 %)" in body


def test_round_two_offers_labelled_inputs_for_flagged_leaves_only(login, cast, self_assessed):
    flagged = score(self_assessed, "1.1.2")
    workflow.score_appraise(
        assessment_id=self_assessed.pk,
        user=cast["appraiser_1"],
        stage=Stage.APPRAISAL_1,
        items=[workflow.AppraisalInput(flagged.pk, flagged.version, D("4"), "Thiếu", flag=True)],
    )
    set_stage(Stage.APPRAISAL_2)
    client = login(cast["appraiser_1"])
    body = client.get(url(self_assessed)).content.decode()
    parsed = Inputs()
    parsed.feed(body)
    assert sorted(a["name"] for a in parsed.inputs) == sorted(
        f"{name}_{flagged.pk}" for name in ("value", "reason", "na", "note")
    )
    assert all(parsed.labels.get(a["id"], ("", ""))[1] for a in parsed.inputs)
    data = page_data(client, self_assessed, value_1_1_2="4,75", reason_1_1_2="Đã giải trình")
    assert client.post(url(self_assessed), data).status_code == 302
    flagged.refresh_from_db()
    assert flagged.appraisal_2 == D("4.75")
