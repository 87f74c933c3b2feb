"""Small, readable import files for tests: a province with two groups and a tiny criteria set."""

from datetime import datetime

UNITS = """code,name,group,group_name,short_name
so-a,Sở An,departments,"Sở, ban, ngành",SA
so-b,Sở Bình,departments,"Sở, ban, ngành",SB
so-c,Sở Cần,departments,"Sở, ban, ngành",SC
quan-x,quận Xuân,districts,"UBND quận, huyện",QX
"""

# Field 1: 1.1 (1.1.1 self 4, 1.1.2 self 6); field 2: 2.1 survey 10; field 3: bonus 2, penalty 2.
CRITERIA = """code,parent,title,max_points,kind,guidance
1,,Công tác chỉ đạo,10,,
1.1,1,Kế hoạch CCHC,10,,
1.1.1,1.1,Ban hành kế hoạch,4,self,Đúng hạn: 4 điểm
1.1.2,1.1,Hoàn thành kế hoạch,6,self,
2,,Tác động,10,,
2.1,2,Đánh giá của người dân,10,survey,
3,,"Điểm thưởng, điểm trừ",4,,
3.1,3,Điểm thưởng,2,bonus,
3.2,3,Điểm trừ,2,penalty,
"""

SCORES = """unit,criterion,self_score,final_score,note
so-a,1.1.1,4,4,Có kế hoạch
so-a,1.1.2,6,5.5,Chậm một nhiệm vụ
so-a,2.1,,9,Điều tra
so-a,3.1,1,1,Sáng kiến
so-b,1.1.1,4,3,Ban hành chậm
so-b,1.1.2,6,6,
so-b,2.1,,8,
so-b,3.2,,0.5,Báo cáo chậm
so-c,1.1.1,4,4,
so-c,1.1.2,5,na,Không có nhiệm vụ
so-c,2.1,,8,
"""
# so-a: 4 + 5.5 + 9 + 1 = 19.5 / 20 = 97.50 · so-b: 3 + 6 + 8 - 0.5 = 16.5 / 20 = 82.50
# so-c: 4 + 8 = 12 / 14 = 85.71

SIPAS = """unit,access,procedure,civil_servants,result,feedback
so-a,90,91,92,93,94
so-b,95,95,95,95,95.5
so-c,80,81,82,83,84
"""


def load_small_province(run, write, year=2023, publish=True, published_at=None):
    """Import the small province through the commands; optionally publish it."""
    assert run("import_units", write("units.csv", UNITS)).status == 0
    steps = [
        ("import_criteria", CRITERIA),
        ("import_scores", SCORES),
        ("import_sipas", SIPAS),
    ]
    for command, content in steps:
        outcome = run(command, write(f"{command}.csv", content), year=year, group="departments")
        assert outcome.status == 0, outcome.err
    if publish:
        options = {"published_at": datetime.fromisoformat(published_at)} if published_at else {}
        outcome = run("publish", year=year, group="departments", **options)
        assert outcome.status == 0, outcome.err
