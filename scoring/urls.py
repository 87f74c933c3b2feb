from django.urls import path

from . import views

app_name = "scoring"

urlpatterns = [
    path("assessments/", views.assessment_list_view, name="assessments"),
    path("assessments/<int:year>/<slug:unit>/", views.assessment_view, name="assessment"),
    path(
        "assessments/<int:year>/<slug:unit>/submit/",
        views.assessment_submit_view,
        name="submit",
    ),
    path(
        "assessments/<int:year>/<slug:unit>/explanation/submit/",
        views.explanation_submit_view,
        name="submit_explanation",
    ),
    path(
        "assessments/<int:year>/<slug:unit>/evidence/<int:pk>/delete/",
        views.evidence_delete_view,
        name="evidence_delete",
    ),
    path(
        "assessments/<int:year>/<slug:unit>/leaves/<int:criterion_id>/",
        views.leaf_save_view,
        name="leaf_save",
    ),
    path(
        "assessments/<int:year>/<slug:unit>/points/<int:criterion_id>/",
        views.target_points_view,
        name="target_points",
    ),
    path("evidence/<int:pk>/", views.evidence_download_view, name="evidence"),
]
