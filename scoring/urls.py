from django.urls import path

from . import views

app_name = "scoring"

urlpatterns = [
    path("assessments/", views.assessment_list, name="assessments"),
    path("assessments/<int:year>/<slug:unit>/", views.assessment_detail, name="assessment"),
    path("assessments/<int:year>/<slug:unit>/submit/", views.assessment_submit, name="submit"),
    path(
        "assessments/<int:year>/<slug:unit>/explanation/submit/",
        views.explanation_submit,
        name="submit_explanation",
    ),
    path(
        "assessments/<int:year>/<slug:unit>/evidence/<int:pk>/delete/",
        views.evidence_delete,
        name="evidence_delete",
    ),
    path("evidence/<int:pk>/", views.evidence_download, name="evidence"),
]
