"""The Cần Thơ demo tells the story of the 2023 results (domain.md §6: the city's report of
28-02-2024 and NSMT's of 29-02-2024), the city's SIPAS survey of 2024, and the reorganisation
of 2025 (departments merged on 1 March, districts abolished and communes merged on 1 July),
read through the public API and pages after `load_demo`; 2026 is open for self-assessment."""

import io
import re
from collections import Counter
from decimal import Decimal as D

import pytest
from django.conf import global_settings
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection

from scoring import calculation
from scoring.models import Assessment, CriteriaSet, Round, Stage
from scoring.roles import ensure_roles
from tests.helpers import database_state

pytestmark = pytest.mark.django_db

LEADERS = [
    "Sở Lao động – Thương binh và Xã hội",
    "Sở Khoa học và Công nghệ",
    "Sở Văn hóa, Thể thao và Du lịch",
]


@pytest.fixture(scope="module")
def demo_data(django_db_setup, django_db_blocker):
    """The demo, loaded once for the module (it takes seconds); each test's own changes are
    rolled back, and the module leaves the database as the migrations made it."""
    with django_db_blocker.unblock():
        call_command("load_demo", stdout=io.StringIO())
    yield
    with django_db_blocker.unblock():
        # Back to the rows the migrations made, with their own ids: a plain flush would let
        # post_migrate recreate the content types under new ids, and a later test with
        # serialized_rollback would then collide with them.
        serialized = getattr(connection, "_test_serialized_contents", None)
        if serialized is None:  # no test of the run asked for serialized_rollback
            call_command("flush", interactive=False, verbosity=0)
        else:
            call_command("flush", interactive=False, verbosity=0, inhibit_post_migrate=True)
            connection.creation.deserialize_db_from_string(serialized)
        ensure_roles()


@pytest.fixture
def demo(demo_data, db):
    return demo_data


def ranking(client, year, group):
    response = client.get(f"/api/v1/rankings/{year}/{group}/")
    assert response.status_code == 200
    return response.json()


def average(results, key="index"):
    """The group's average from the API's published indices (exact decimals)."""
    return calculation.average([D(r[key]) for r in results])


def test_loading_the_demo_twice_changes_nothing(run, demo):
    before = database_state()
    assert run("load_demo").status == 0
    assert database_state() == before


def test_the_2023_departments_match_the_seed_article(client, demo):
    data = ranking(client, 2023, "departments")
    assert data["published_at"] == "2024-02-28T09:00:00+07:00"
    results = data["results"]
    assert len(results) == 20
    assert Counter(r["band_label"] for r in results) == {"Rất tốt": 8, "Tốt": 10, "Khá": 2}
    assert [r["name"] for r in results[:3]] == LEADERS
    assert [r["rank"] for r in results[:3]] == [1, 2, 3]
    assert results[-1]["name"] == "Sở Tài nguyên và Môi trường"
    assert results[-1]["rank"] == 20
    # Most units improved on 2022; two or three did not.
    changes = [D(r["change"]) for r in results]
    assert sum(1 for change in changes if change <= 0) in (2, 3)


def test_the_departments_match_the_second_report(client, demo):
    now = ranking(client, 2023, "departments")["results"]
    before = ranking(client, 2022, "departments")["results"]
    assert average(now) == D("92.27")
    assert average(before) == D("90.51")
    assert average(now) - average(before) == D("1.76")
    assert all(D(r["index"]) > 80 for r in now + before)
    named_so = Counter(r["band_label"] for r in now if r["name"].startswith("Sở"))
    assert named_so == {"Rất tốt": 5, "Tốt": 9, "Khá": 2}
    last_year = {r["unit"]: D(r["index"]) for r in before}
    assert all(D(r["index"]) - last_year[r["unit"]] == D(r["change"]) for r in now)


def test_the_2023_districts_match_both_reports(client, demo):
    results = ranking(client, 2023, "districts")["results"]
    before = ranking(client, 2022, "districts")["results"]
    assert len(results) == 9
    assert [r["name"] for r in results[:2]] == ["huyện Phong Điền", "huyện Vĩnh Thạnh"]
    assert [r["rank"] for r in results[:2]] == [1, 2]
    assert results[-1]["name"] == "quận Ninh Kiều"
    assert results[-1]["rank"] == 9
    assert Counter(r["band_label"] for r in results) == {"Rất tốt": 2, "Tốt": 7}
    assert all(D(r["change"]) > 0 for r in results)  # every district improved
    assert (average(results), average(before)) == (D("93.93"), D("87.51"))
    assert average(results) - average(before) == D("6.42")


def test_the_assumed_bands_are_published_with_the_results(client, demo):
    data = ranking(client, 2023, "departments")
    bands = {r["band"]: r["band_label"] for r in data["results"]}
    assert bands == {"rat-tot": "Rất tốt", "tot": "Tốt", "kha": "Khá"}
    lowest = {
        label: min(D(r["index"]) for r in data["results"] if r["band_label"] == label)
        for label in ("Rất tốt", "Tốt", "Khá")
    }
    assert lowest == {"Rất tốt": D("95.10"), "Tốt": D("90.20"), "Khá": D("85.90")}


def test_the_2023_sipas_matches_the_seed_article(client, demo):
    departments = client.get("/api/v1/sipas/2023/departments/").json()["results"]
    assert [r["name"] for r in departments[:3]] == [
        "Sở Lao động – Thương binh và Xã hội",
        "Sở Giáo dục và Đào tạo",
        "Sở Nội vụ",
    ]
    assert [r["rank"] for r in departments[:3]] == [1, 2, 3]
    districts = client.get("/api/v1/sipas/2023/districts/").json()["results"]
    assert districts[0]["name"] == "huyện Thới Lai"
    assert districts[-1]["name"] == "quận Ô Môn"
    assert districts[-1]["rank"] == 9
    for year in (2022, 2023):
        for group in ("departments", "districts"):
            sipas = client.get(f"/api/v1/sipas/{year}/{group}/").json()["results"]
            assert all(D("80") <= D(v) <= D("99.5") for r in sipas for v in r["elements"].values())
            # SIPAS is its own index: its averages are not the PAR Index's.
            assert average(sipas) != average(ranking(client, year, group)["results"])


def test_the_online_payment_rate_shows_its_figure_and_target(client, demo):
    data = client.get("/api/v1/units/so-tai-chinh/").json()
    result = next(r for r in data["results"] if r["year"] == 2023)
    payment = next(
        leaf for leaf in result["leaves"] if leaf["title"] == "Tỷ lệ thanh toán trực tuyến"
    )
    assert payment["kind"] == "target"
    assert (payment["figure"], payment["target"], payment["unit_label"]) == ("42.40", "30.00", "%")
    assert payment["final_score"] == payment["max_points"] == "1.50"  # 42.4 % ≥ 30 %: full points
    page = client.get("/units/so-tai-chinh/?year=2023").content.decode()
    row = re.search(r"Tỷ lệ thanh toán trực tuyến .*?class=\"note figure\">([^<]*)<", page, re.S)
    shown = row.group(1)
    assert "42,4 %" in shown and "30 %" in shown  # "(chỉ tiêu 30 %)" once translated


def test_target_agency_and_sipas_leaves_are_published(client, demo):
    result = next(
        r
        for r in client.get("/api/v1/units/huyen-phong-dien/").json()["results"]
        if r["year"] == 2023
    )
    kinds = Counter(leaf["kind"] for leaf in result["leaves"])
    assert kinds["agency"] >= 2 and kinds["target"] >= 3 and kinds["survey"] >= 10
    fed = [leaf for leaf in result["leaves"] if "sipas_element" in leaf]
    assert len(fed) == 5 and all(leaf["final_score"] for leaf in fed)
    assert all(leaf["note"] for leaf in result["leaves"])


def test_four_years_are_published_and_2026_is_open_for_self_assessment(client, demo):
    years = client.get("/api/v1/").json()["years"]
    assert [(y["year"], [g["code"] for g in y["groups"]]) for y in years] == [
        (2025, ["departments", "communes"]),
        (2024, ["departments", "districts", "communes"]),
        (2023, ["departments", "districts"]),
        (2022, ["departments", "districts"]),
    ]
    for path in (
        "/api/v1/rankings/2026/departments/",
        "/api/v1/rankings/2026/communes/",
        "/api/v1/sipas/2026/communes/",
        "/rankings/2026/departments/",
        "/rankings/2026/communes/",
        "/api/v1/rankings/2025/districts/",  # no district level any more
    ):
        assert client.get(path).status_code == 404, path
    assert Round.objects.get(year=2024).stage == Stage.FINAL
    round_2026 = Round.objects.get(year=2026)
    assert round_2026.stage == Stage.SELF_ASSESSMENT
    assert round_2026.self_assessment_deadline is not None
    assessments = Assessment.objects.filter(criteria_set__round=round_2026)
    assert Counter(
        a.criteria_set.group.code for a in assessments.select_related("criteria_set__group")
    ) == {"departments": 15, "communes": 103}
    assert not assessments.filter(unit__dissolved_on__isnull=False).exists()


def test_a_2026_staff_account_opens_its_self_assessment(client, demo, settings):
    # The demo's passwords were hashed with the project's hasher, not the tests' fast one.
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS
    for unit in ("so-noi-vu", "phuong-ninh-kieu"):
        client.post("/accounts/login/", {"username": f"staff-{unit}", "password": "demo"})
        assert client.get(f"/assessments/2026/{unit}/").status_code == 200, unit
        client.post("/accounts/logout/")
    # The list: 2026 is a draft; the published years were submitted, not left as drafts.
    client.post("/accounts/login/", {"username": "staff-so-noi-vu", "password": "demo"})
    rows = re.findall(
        r'<th scope="row"><a [^>]*>(\d{4})</a></th>\s*<td>[^<]*</td>\s*<td>([^<]*)</td>',
        client.get("/assessments/", HTTP_ACCEPT_LANGUAGE="vi").content.decode(),
    )
    assert rows == [
        ("2026", "Đang soạn thảo"),
        *[(str(year), "Đã gửi") for year in (2025, 2024, 2023, 2022)],
    ]
    client.post("/accounts/logout/")
    # Units that ceased in 2025 have no accounts and nothing to assess.
    assert not User.objects.filter(username__endswith="huyen-phong-dien").exists()
    assert client.get("/assessments/2026/huyen-phong-dien/").status_code == 302  # to log in


def test_the_2024_sipas_matches_the_citys_survey(client, demo):
    """Viện Kinh tế – Xã hội thành phố, reported by Lao Động (shared data README)."""
    departments = client.get("/api/v1/sipas/2024/departments/").json()["results"]
    assert len(departments) == 20
    assert average(departments) == D("94.41")
    assert (departments[0]["name"], departments[0]["index"], departments[0]["rank"]) == (
        "Sở Thông tin và Truyền thông",
        "98.00",
        1,
    )
    assert sorted((r["name"], r["index"], r["rank"]) for r in departments[1:3]) == [
        ("Sở Khoa học và Công nghệ", "96.93", 2),
        ("Sở Văn hóa, Thể thao và Du lịch", "96.93", 2),
    ]
    assert departments[3]["rank"] == 4 and D(departments[3]["index"]) < D("96.93")
    assert (departments[-1]["name"], departments[-1]["index"], departments[-1]["rank"]) == (
        "Sở Xây dựng",
        "89.32",
        20,
    )
    assert D(departments[-2]["index"]) > D("89.32")
    districts = client.get("/api/v1/sipas/2024/districts/").json()["results"]
    assert len(districts) == 9
    assert average(districts) == D("93.53")
    assert (districts[0]["name"], districts[0]["index"], districts[0]["rank"]) == (
        "quận Ô Môn",
        "96.73",
        1,
    )
    assert (districts[-1]["name"], districts[-1]["index"], districts[-1]["rank"]) == (
        "quận Ninh Kiều",
        "91.69",
        9,
    )
    assert D(districts[1]["index"]) < D("96.73") and D(districts[-2]["index"]) > D("91.69")


def test_2024_ranks_the_old_communes_with_nothing_to_compare(client, demo):
    sizes = {
        group: len(ranking(client, 2024, group)["results"])
        for group in ("departments", "districts", "communes")
    }
    assert sizes == {"departments": 20, "districts": 9, "communes": 80}
    communes = ranking(client, 2024, "communes")
    assert communes["group_name"] == "UBND cấp xã"
    assert all(r["change"] is None and r["change_basis"] is None for r in communes["results"])
    districts = ranking(client, 2024, "districts")["results"]
    assert all(r["change_basis"] == "own" for r in districts)


def test_2025_compares_through_the_mergers(client, demo):
    departments = ranking(client, 2025, "departments")
    communes = ranking(client, 2025, "communes")
    assert (len(departments["results"]), len(communes["results"])) == (15, 103)
    for data in (departments, communes):
        assert (data["baseline_version"], data["baseline_outdated"]) == (1, False)
    last_year = {
        r["unit"]: r["index"]
        for group in ("departments", "districts", "communes")
        for r in ranking(client, 2024, group)["results"]
    }
    results = {r["unit"]: r for r in departments["results"] + communes["results"]}

    def basis(unit):
        r = results[unit]
        return r["change_basis"], r["compared_with"], r["previous_index"], r["change"]

    own = results["so-tu-phap"]
    assert basis("so-tu-phap")[:3] == ("own", ["so-tu-phap"], last_year["so-tu-phap"])
    assert D(own["change"]) == D(own["index"]) - D(last_year["so-tu-phap"])
    assert basis("so-dan-toc-ton-giao")[:3] == (
        "predecessor",
        ["ban-dan-toc"],
        last_year["ban-dan-toc"],
    )
    # docs/calculation.md, 9: (90.35 + 85.90) / 2 = 88.125, published 88.13; 91.40 − 88.13.
    assert basis("so-nong-nghiep-moi-truong") == (
        "merged",
        ["so-nong-nghiep-phat-trien-nong-thon", "so-tai-nguyen-moi-truong"],
        "88.13",
        "3.27",
    )
    assert basis("so-noi-vu")[:2] == ("merged", ["so-noi-vu", "so-lao-dong-thuong-binh-xa-hoi"])
    # A commune formed only from Hậu Giang's wards was never ranked here.
    assert basis("phuong-vi-thanh") == (None, [], None, None)
    assert basis("xa-thanh-phu")[:2] == ("predecessor", ["huyen-co-do-xa-thanh-phu"])
    assert basis("phuong-ninh-kieu")[0] == "merged"
    assert Counter(r["change_basis"] for r in departments["results"]) == {
        "own": 9,
        "merged": 5,
        "predecessor": 1,
    }
    assert Counter(r["change_basis"] for r in communes["results"]) == {
        None: 71,
        "merged": 28,
        "predecessor": 4,
    }
    # A ward split in two counts in both.
    for ward in ("phuong-an-binh", "phuong-long-tuyen"):
        assert "quan-binh-thuy-phuong-long-tuyen" in results[ward]["compared_with"]
    sipas = {r["unit"]: r for r in client.get("/api/v1/sipas/2025/departments/").json()["results"]}
    assert sipas["so-nong-nghiep-moi-truong"]["change_basis"] == "merged"


def test_the_unit_pages_tell_the_reorganisation(client, demo):
    district = client.get("/units/huyen-phong-dien/").content.decode()
    assert "Ngừng hoạt động ngày 01/07/2025 (bỏ cấp huyện)" in district
    merged = client.get("/units/so-nong-nghiep-moi-truong/").content.decode()
    assert "Thành lập ngày 01/03/2025 từ:" in merged
    for code, name in (
        ("so-nong-nghiep-phat-trien-nong-thon", "Sở Nông nghiệp và Phát triển nông thôn"),
        ("so-tai-nguyen-moi-truong", "Sở Tài nguyên và Môi trường"),
    ):
        assert f'<a href="/units/{code}/">{name}</a>' in merged
    # Sở Nội vụ, ranked since 2022, took Sở Lao động – Thương binh và Xã hội over.
    kept = client.get("/units/so-noi-vu/").content.decode()
    assert "Ngày 01/03/2025 tiếp nhận:" in kept and "Thành lập" not in kept
    # Its 2025 change is marked and explained: the mean of its own and the taken-over index.
    ranked_2024 = {
        r["unit"]: D(r["index"])
        for r in client.get("/api/v1/rankings/2024/departments/").json()["results"]
    }
    mean = calculation.quantize(
        (ranked_2024["so-noi-vu"] + ranked_2024["so-lao-dong-thuong-binh-xa-hoi"]) / 2
    )
    assert '<a href="#vs-par-2025"' in kept
    note = re.search(r'<li id="vs-par-2025">(.*?)</li>', kept, re.S).group(1)
    assert f"2025: so với trung bình ({str(mean).replace('.', ',')}) chỉ số năm trước của" in note
    assert "Sở Lao động – Thương binh và Xã hội</a> (" in note
    ward = client.get("/units/quan-binh-thuy-phuong-long-tuyen/").content.decode()
    assert "Ngừng hoạt động ngày 01/07/2025" in ward
    assert '<a href="/units/phuong-an-binh/">phường An Bình</a>' in ward
    assert '<a href="/units/phuong-long-tuyen/">phường Long Tuyền</a>' in ward


def test_each_demo_set_is_a_full_tree(demo):
    sets = CriteriaSet.objects.select_related("round", "group")
    assert Counter(s.round.year for s in sets) == {2022: 2, 2023: 2, 2024: 3, 2025: 2, 2026: 2}
    for criteria_set in sets:
        criteria = list(criteria_set.criteria.all())
        fields = [c for c in criteria if c.parent_id is None]
        leaves = [c for c in criteria if c.is_leaf]
        assert len(fields) == 9
        assert fields[-1].title == "Điểm thưởng, điểm trừ"
        assert len(criteria) - len(fields) - len(leaves) >= 30  # criteria
        assert len(leaves) >= 60  # sub-criteria
        totals = calculation.maximum_by_kind(leaves)
        assert calculation.scored_maximum(leaves) == 100
        assert totals["survey"] == 32 and totals["agency"] and totals["target"]
        assert totals["bonus"] and totals["penalty"]
        assert sorted(c.sipas_element for c in leaves if c.sipas_element) == sorted(
            ["access", "procedure", "civil_servants", "result", "feedback"]
        )
        last_year = sets.filter(round__year=criteria_set.round.year - 1, group=criteria_set.group)
        if last_year.exists():
            assert sum(1 for c in criteria if c.previous_id) > len(criteria) * 0.9
        else:  # a group's first year: nothing to link to
            assert not any(c.previous_id for c in criteria)


def test_the_methodology_says_what_changed_in_2023(client, demo):
    page = client.get("/methodology/2023/departments/").content.decode()
    changes = page[page.index('id="changes"') :]
    assert "1.4.3. Tuyên truyền CCHC trên Cổng thông tin điện tử và mạng xã hội" in changes
    assert "1.3.3. Ban hành kế hoạch kiểm tra CCHC" in changes
    assert "dịch vụ công trực tuyến mức độ 3, 4" in changes
